// The Node 24 binary the end-to-end tests run the bundles with (shared with the demo).
export { node24 } from '../../scripts/node24.js'
