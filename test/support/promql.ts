import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/**
 * Finds the PromQL in the Grafana artifacts (grafana/) and the metric names it reads, so tests
 * can check those names against what the daemon exports: against DESIGN section 3 offline, or
 * against a live daemon's /metrics.
 */

export const GRAFANA_FILES = {
  dashboard: fileURLToPath(new URL('../../grafana/dashboards/driftwatch.json', import.meta.url)),
  alerts: fileURLToPath(new URL('../../grafana/provisioning/alerting/driftwatch-alerts.yaml', import.meta.url)),
  prometheusRules: fileURLToPath(new URL('../../grafana/prometheus/driftwatch-rules.yaml', import.meta.url)),
};

/** One PromQL expression and where it was found ("dashboard panel 8 ... target A"). */
export interface FoundExpression {
  source: string;
  expr: string;
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function records(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Every target `expr` of every panel (rows' nested panels too) and every query variable. */
export function dashboardExpressions(dashboard: unknown): FoundExpression[] {
  const found: FoundExpression[] = [];
  const visit = (panels: unknown) => {
    for (const panel of records(panels)) {
      const name = `dashboard panel ${String(panel.id)} "${text(panel.title) ?? ''}"`;
      for (const target of records(panel.targets)) {
        const expr = text(target.expr);
        if (expr !== undefined && expr.trim() !== '') found.push({ source: `${name} target ${text(target.refId) ?? '?'}`, expr });
      }
      visit(panel.panels);
    }
  };
  if (!isRecord(dashboard)) return found;
  visit(dashboard.panels);
  const variables = isRecord(dashboard.templating) ? records(dashboard.templating.list) : [];
  for (const variable of variables) {
    if (variable.type !== 'query') continue;
    const query = isRecord(variable.query) ? text(variable.query.query) : text(variable.query);
    const expr = query === undefined ? undefined : variableQueryExpression(query);
    if (expr !== undefined) found.push({ source: `dashboard variable ${text(variable.name) ?? '?'}`, expr });
  }
  for (const annotation of isRecord(dashboard.annotations) ? records(dashboard.annotations.list) : []) {
    const expr = text(annotation.expr);
    if (expr !== undefined && expr.trim() !== '') found.push({ source: `dashboard annotation ${text(annotation.name) ?? '?'}`, expr });
  }
  return found;
}

/**
 * The PromQL inside a Prometheus variable query: `label_values(EXPR, label)` and
 * `query_result(EXPR)` hold one; `label_values(label)`, `label_names()`, `metrics(re)` none.
 */
export function variableQueryExpression(query: string): string | undefined {
  const call = /^\s*(label_values|query_result)\s*\(([\s\S]*)\)\s*$/.exec(query);
  if (!call) return undefined;
  const [, fn, args = ''] = call;
  if (fn === 'query_result') return args.trim();
  const comma = lastTopLevelComma(args);
  return comma < 0 ? undefined : args.slice(0, comma).trim();
}

function lastTopLevelComma(args: string): number {
  let depth = 0;
  let quote: string | undefined;
  let last = -1;
  for (let i = 0; i < args.length; i++) {
    const c = args.charAt(i);
    if (quote !== undefined) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'" || c === '`') quote = c;
    else if ('({['.includes(c)) depth++;
    else if (')}]'.includes(c)) depth--;
    else if (c === ',' && depth === 0) last = i;
  }
  return last;
}

/** The `expr` of every data query of every rule in a Grafana alerting provisioning file. */
export function grafanaAlertExpressions(provisioning: unknown): FoundExpression[] {
  const found: FoundExpression[] = [];
  if (!isRecord(provisioning)) return found;
  for (const group of records(provisioning.groups)) {
    for (const rule of records(group.rules)) {
      for (const query of records(rule.data)) {
        if (query.datasourceUid === '__expr__' || !isRecord(query.model)) continue;
        const expr = text(query.model.expr);
        if (expr !== undefined) found.push({ source: `alert ${text(rule.title) ?? '?'} (${text(rule.uid) ?? '?'}) query ${text(query.refId) ?? '?'}`, expr });
      }
    }
  }
  return found;
}

/** The `expr` of every rule of a Prometheus rule file. */
export function prometheusRuleExpressions(ruleFile: unknown): FoundExpression[] {
  const found: FoundExpression[] = [];
  if (!isRecord(ruleFile)) return found;
  for (const group of records(ruleFile.groups)) {
    for (const rule of records(group.rules)) {
      const expr = text(rule.expr);
      const name = text(rule.alert) ?? text(rule.record) ?? '?';
      if (expr !== undefined) found.push({ source: `rule ${name}`, expr });
    }
  }
  return found;
}

/** The dashboard's and the Grafana alert rules' expressions, read from grafana/. */
export function readGrafanaExpressions(): FoundExpression[] {
  const dashboard: unknown = JSON.parse(readFileSync(GRAFANA_FILES.dashboard, 'utf8'));
  const alerts: unknown = parse(readFileSync(GRAFANA_FILES.alerts, 'utf8'));
  return [...dashboardExpressions(dashboard), ...grafanaAlertExpressions(alerts)];
}

/** Every metric name the dashboard and the Grafana alert rules read (histograms with their suffix). */
export function grafanaMetricNames(): Set<string> {
  return new Set(readGrafanaExpressions().flatMap((e) => metricNames(e.expr)));
}

/**
 * Replaces Grafana's variables with values Prometheus accepts, so the expression can be parsed
 * outside Grafana: range macros become `5m` (`_s`/`_ms` forms numbers), dashboard variables
 * (`$check`, `${check}`, `${check:regex}`, `[[check]]`) become `.*`, which they only ever are
 * inside label-matcher strings.
 */
export function substituteGrafanaVariables(expr: string): string {
  return expr
    .replace(/\$\{?__(?:rate_interval|interval|range)_ms\}?/g, '300000')
    .replace(/\$\{?__(?:rate_interval|interval|range)_s\}?/g, '300')
    .replace(/\$\{?__(?:rate_interval|interval|range)\}?/g, '5m')
    .replace(/\$\{\w+(?::\w+)?\}|\$\w+|\[\[\w+\]\]/g, '.*');
}

const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio']);
const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const KEYWORDS = new Set(['bool', 'and', 'or', 'unless', 'offset', 'atan2', 'inf', 'nan']);

type Token = { kind: 'string' | 'number' | 'ident' | 'punct'; value: string };

const TOKEN = /\s+|#[^\n]*|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`|\d[\w.]*|\.\d[\w.]*|[A-Za-z_:][\w:]*|[\s\S]/gy;

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(expr); m !== null && m[0] !== ''; m = TOKEN.exec(expr)) {
    const value = m[0];
    const first = value.charAt(0);
    if (/\s/.test(first) || first === '#') continue;
    if (first === '"' || first === "'" || first === '`') tokens.push({ kind: 'string', value: unquote(value) });
    else if (/^\.?\d/.test(value)) tokens.push({ kind: 'number', value });
    else if (/[A-Za-z_:]/.test(first)) tokens.push({ kind: 'ident', value });
    else tokens.push({ kind: 'punct', value });
  }
  return tokens;
}

function unquote(literal: string): string {
  const body = literal.slice(1, -1);
  return literal.startsWith('`') ? body : body.replace(/\\(.)/g, '$1');
}

/**
 * The metric names an expression reads: bare selectors and `{__name__="..."}` matchers, not
 * functions, aggregations, keywords, label names or string contents. A lexer, not a parser: it
 * assumes the expression parses (check that with promtool).
 */
export function metricNames(expr: string): string[] {
  const tokens = tokenize(expr);
  const names = new Set<string>();
  const at = (i: number): Token | undefined => tokens[i];
  let i = 0;
  while (i < tokens.length) {
    const token = tokens[i];
    if (token === undefined) break;
    if (token.kind === 'punct' && (token.value === '{' || token.value === '[')) {
      const close = token.value === '{' ? '}' : ']';
      let j = i + 1;
      for (; j < tokens.length && at(j)?.value !== close; j++) {
        if (token.value === '{' && at(j)?.value === '__name__' && at(j + 1)?.value === '=' && at(j + 2)?.kind === 'string') {
          names.add(at(j + 2)?.value ?? '');
        }
      }
      i = j + 1;
      continue;
    }
    if (token.kind !== 'ident') {
      i++;
      continue;
    }
    const next = at(i + 1);
    const word = token.value;
    if (LABEL_LIST_KEYWORDS.has(word) && next?.value === '(') {
      let j = i + 2;
      while (j < tokens.length && at(j)?.value !== ')') j++;
      i = j + 1;
      continue;
    }
    const isCall = next?.value === '(' || (AGGREGATIONS.has(word) && (next?.value === 'by' || next?.value === 'without'));
    if (!isCall && !KEYWORDS.has(word.toLowerCase()) && !LABEL_LIST_KEYWORDS.has(word)) names.add(word);
    i++;
  }
  names.delete('');
  return [...names].sort();
}
