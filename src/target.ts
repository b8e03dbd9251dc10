import { bind, type BoundCheck } from './checks/registry.js';
import { TargetNotAllowedError } from './daemon-errors.js';

/**
 * A /probe caller may point a check at another target only inside the check's own
 * allowTargets patterns (no open SSRF). Patterns are globs where * matches a run of URL
 * "unreserved" characters only (letters, digits, . _ ~ -): never / ? # @ or :, so a pattern like
 * https://*.example.com/health cannot be bent into https://evil.test?.example.com/health.
 */
export function retarget(check: BoundCheck, target: string, as: 'check' | 'module' = 'check'): BoundCheck {
  const patterns = check.spec.allowTargets ?? [];
  if (check.target === undefined) throw new TargetNotAllowedError(`check ${check.spec.name} (${check.spec.type}) has no overridable target`);
  if (!patterns.some((p) => globToRegExp(p).test(target))) {
    throw new TargetNotAllowedError(`target "${target}" is not allowed by check ${check.spec.name} (allowTargets: ${patterns.join(', ') || 'none'})`);
  }
  const spec = check.retarget(target, as);
  if (!spec) throw new TargetNotAllowedError(`check ${check.spec.name} cannot take target "${target}"`);
  return bind(spec);
}

export function globToRegExp(glob: string): RegExp {
  const escaped = glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('[A-Za-z0-9._~-]*')}$`);
}
