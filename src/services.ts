import type { Services } from './checks/check-type.js';

export interface ServiceOptions {
  release?: string | undefined;
}

/** Builds the daemon-wide services checks share (created once per daemon or CLI run). */
export function createServices(options: ServiceOptions): Services {
  return { release: options.release };
}
