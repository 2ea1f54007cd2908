/**
 * The resolve feature as other features see it (OFREP answers with the same evaluation): request parsing,
 * the context ETag and exposure reporting.
 */
export { canonicalJson, contextEtag } from './context-etag.ts';
export { reportExposures, reportExposuresSafely } from './resolve.service.ts';
export { isJsonObject, parseEvaluationContext } from './resolve-request.ts';
