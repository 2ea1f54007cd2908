#!/usr/bin/env node
/**
 * The workspace's `dimmer` executable (`npx dimmer`): runs the built CLI through `scripts/start.js`, which
 * builds it first when it is missing or older than the sources. A release links `bin.dimmer` straight to
 * `packages/cli/dist/dimmer.js`.
 */
process.argv.splice(2, 0, 'dimmer');
await import('../../../scripts/start.js');
