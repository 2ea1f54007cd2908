/**
 * The resolve feature as other features see it (OFREP answers with the same evaluation): request parsing,
 * the context ETag, exposure reporting and the per-outcome JSON cache.
 */
export { canonicalJson, contextEtag } from './context-etag.ts';
export { OutcomeJsonCache } from './outcome-cache.ts';
export { reportExposures, reportExposuresSafely } from './resolve.service.ts';
export { isJsonObject, parseEvaluationContext } from './resolve-request.ts';
