// The benchmarks start their targets on loopback the way the tests do.
export { closedPort, freePort } from '../../test/support/ports.js';
