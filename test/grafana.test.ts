import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { FAMILIES } from '../src/results/families.js';
import {
  dashboardExpressions,
  GRAFANA_FILES,
  grafanaAlertExpressions,
  metricNames,
  prometheusRuleExpressions,
  readGrafanaExpressions,
  substituteGrafanaVariables,
  variableQueryExpression,
} from './support/promql.js';

// ---- what the daemon exports (DESIGN section 3) ------------------------------------------------

/** Daemon-wide families (src/metrics/daemon-metrics.ts); per-check ones are FAMILIES. */
const DAEMON_GAUGES = ['driftwatch_config_last_reload_successful', 'driftwatch_checks'];
const HISTOGRAMS = ['driftwatch_scheduler_lag_seconds', 'driftwatch_check_run_duration_seconds'];
const HISTOGRAM_SERIES = HISTOGRAMS.flatMap((h) => ['_bucket', '_sum', '_count'].map((suffix) => h + suffix));
/** The windows' daemon-wide series (docs/gate.md): the alert rules read them; the dashboard has no panel for them yet. */
const WINDOW_SERIES = ['driftwatch_check_window', 'driftwatch_windows_unconverged_total'];
const EXPORTED = new Set([...Object.keys(FAMILIES), ...DAEMON_GAUGES, ...HISTOGRAM_SERIES, ...WINDOW_SERIES]);

// ---- the files, parsed into the shapes the tests rely on ---------------------------------------

const Datasource = z.object({ type: z.string(), uid: z.string() });
const Target = z.looseObject({ refId: z.string(), expr: z.string().min(1), datasource: Datasource.optional() });
const GridPos = z.object({ h: z.number().int().positive(), w: z.number().int().positive(), x: z.number().int().min(0), y: z.number().int().min(0) });
const Panel = z.looseObject({
  id: z.number().int().positive(),
  type: z.string(),
  title: z.string().min(1),
  gridPos: GridPos,
  datasource: Datasource.optional(),
  targets: z.array(Target).optional(),
});
const Variable = z.looseObject({ name: z.string(), type: z.string(), query: z.unknown(), datasource: Datasource.optional() });
const Dashboard = z.looseObject({
  uid: z.string().min(1),
  title: z.string().min(1),
  schemaVersion: z.number().int(),
  panels: z.array(Panel),
  templating: z.object({ list: z.array(Variable) }),
});

const GrafanaQuery = z.object({
  refId: z.string(),
  relativeTimeRange: z.object({ from: z.number(), to: z.number() }),
  datasourceUid: z.string(),
  model: z.looseObject({ refId: z.string(), expr: z.string().optional(), type: z.string().optional(), expression: z.string().optional() }),
});
const Threshold = z.looseObject({ type: z.literal('threshold'), expression: z.string(), conditions: z.tuple([z.object({ evaluator: z.object({ type: z.enum(['gt', 'lt']), params: z.tuple([z.number()]) }) })]) });
const GrafanaRule = z.strictObject({
  uid: z.string().regex(/^[a-zA-Z0-9_-]{1,40}$/),
  title: z.string(),
  condition: z.string(),
  data: z.array(GrafanaQuery).min(2),
  for: z.string(),
  noDataState: z.enum(['OK', 'NoData', 'Alerting', 'KeepLast']),
  execErrState: z.enum(['OK', 'Error', 'Alerting', 'KeepLast']),
  isPaused: z.boolean(),
  dashboardUid: z.string().optional(),
  panelId: z.number().int().optional(),
  labels: z.record(z.string(), z.string()),
  annotations: z.object({ summary: z.string(), description: z.string() }),
});
const GrafanaAlerts = z.strictObject({
  apiVersion: z.literal(1),
  groups: z.array(z.strictObject({ orgId: z.number().int(), name: z.string(), folder: z.string(), interval: z.string(), rules: z.array(GrafanaRule) })).min(1),
});

const PrometheusRule = z.strictObject({
  alert: z.string(),
  expr: z.string(),
  for: z.string(),
  labels: z.object({ severity: z.enum(['warning', 'critical']) }),
  annotations: z.object({ summary: z.string(), description: z.string() }),
});
const PrometheusRules = z.strictObject({ groups: z.array(z.object({ name: z.string(), rules: z.array(PrometheusRule) })) });
const PromtoolTests = z.looseObject({
  tests: z.array(z.looseObject({ alert_rule_test: z.array(z.object({ eval_time: z.string(), alertname: z.string(), exp_alerts: z.array(z.unknown()) })).optional() })),
});

const PROMETHEUS_DIR = dirname(GRAFANA_FILES.prometheusRules);
const RULES_TEST_FILE = join(PROMETHEUS_DIR, 'driftwatch-rules.test.yaml');
const DASHBOARD_PROVIDER_FILE = join(dirname(GRAFANA_FILES.alerts), '..', 'dashboards', 'driftwatch.yaml');

async function readYaml(file: string): Promise<unknown> {
  const data: unknown = parse(await readFile(file, 'utf8'));
  return data;
}

async function readDashboard(): Promise<unknown> {
  const data: unknown = JSON.parse(await readFile(GRAFANA_FILES.dashboard, 'utf8'));
  return data;
}

/** Panels that query (not rows), rows' nested panels included. */
function queryPanels(panels: z.infer<typeof Panel>[]): z.infer<typeof Panel>[] {
  return panels.flatMap((p) => {
    const nested = z.array(Panel).safeParse(p.panels);
    return [...(p.type === 'row' ? [] : [p]), ...(nested.success ? queryPanels(nested.data) : [])];
  });
}

/** PromQL without its layout, for comparing two spellings of one expression. */
function squash(expr: string): string {
  return expr.replace(/\s+/g, '');
}

// ---- promtool ------------------------------------------------------------------------------------

interface ToolRun {
  code: number;
  output: string;
}

function promtool(args: string[], cwd: string): Promise<ToolRun> {
  return new Promise((resolve) => {
    execFile('promtool', args, { cwd, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error === null) {
        resolve({ code: 0, output: stdout + stderr });
        return;
      }
      const code = typeof error.code === 'number' ? error.code : -1;
      const hint = error.code === 'ENOENT' ? 'promtool not found on PATH: apt-get install prometheus (see TESTING.md)\n' : '';
      resolve({ code, output: hint + stdout + stderr + error.message });
    });
  });
}

let workDir = '';
beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'driftwatch-grafana-'));
});
afterAll(async () => {
  if (workDir !== '') await rm(workDir, { recursive: true, force: true });
});

/**
 * promtool 2.42 has no "parse this expression" command: write each expression as a recording
 * rule (record: x_check_N) and let `promtool check rules` parse them all.
 */
async function checkParses(name: string, exprs: string[]): Promise<ToolRun> {
  const file = join(workDir, `${name}.rules.yaml`);
  const rules = exprs.map((expr, n) => ({ record: `x_check_${n}`, expr: substituteGrafanaVariables(expr) }));
  await writeFile(file, JSON.stringify({ groups: [{ name, rules }] }, null, 2));
  return promtool(['check', 'rules', file], workDir);
}

// ---- the Prometheus rule file --------------------------------------------------------------------

describe('grafana/prometheus/driftwatch-rules.yaml', () => {
  it('passes promtool check rules', async () => {
    const run = await promtool(['check', 'rules', GRAFANA_FILES.prometheusRules], PROMETHEUS_DIR);
    expect(run.output).toContain('SUCCESS');
    expect(run.code, run.output).toBe(0);
  });

  it('passes its promtool unit tests (firing, pending before for:, quiet, one alert for two HA replicas)', async () => {
    const run = await promtool(['test', 'rules', 'driftwatch-rules.test.yaml'], PROMETHEUS_DIR);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('SUCCESS');
  });

  it('has every alert the design names, each with severity, summary and description naming what it is about', async () => {
    const rules = PrometheusRules.parse(await readYaml(GRAFANA_FILES.prometheusRules)).groups.flatMap((g) => g.rules);
    expect([...new Set(rules.map((r) => r.alert))].sort()).toEqual([
      'DriftwatchCertificateExpiring',
      'DriftwatchCheckFailing',
      'DriftwatchConfigReloadFailed',
      'DriftwatchDNSDrift',
      'DriftwatchIngressNotHealthy',
      'DriftwatchPrimaryLost',
      'DriftwatchRolloutDidNotConverge',
      'DriftwatchRolloutStuck',
      'DriftwatchSchedulerLagging',
    ]);
    expect(rules.filter((r) => r.alert === 'DriftwatchCertificateExpiring').map((r) => r.labels.severity).sort()).toEqual(['critical', 'warning']);
    const daemonWide = new Set(['DriftwatchConfigReloadFailed', 'DriftwatchSchedulerLagging']);
    for (const rule of rules) {
      const about = daemonWide.has(rule.alert) ? '{{ $labels.job }}' : rule.alert === 'DriftwatchRolloutDidNotConverge' ? '{{ $labels.release }}' : '{{ $labels.check }}';
      expect(rule.annotations.summary, rule.alert).toContain(about);
      expect(rule.annotations.description, rule.alert).toContain(about);
    }
    const ingress = rules.find((r) => r.alert === 'DriftwatchIngressNotHealthy');
    expect(ingress?.annotations.summary).toContain('{{ $labels.verdict }}');
    expect(ingress?.annotations.description).toContain('/probe?check={{ $labels.check }}&debug=true');
  });

  it('aggregates per-check alerts across replicas: no expression keeps instance or pod', async () => {
    const rules = PrometheusRules.parse(await readYaml(GRAFANA_FILES.prometheusRules)).groups.flatMap((g) => g.rules);
    for (const rule of rules) {
      expect(rule.expr, rule.alert).toMatch(/^\s*\(?\s*(count|max|min) by \(/);
      expect(rule.expr.replace(/sum by \(job, instance, location, le\)/, ''), rule.alert).not.toMatch(/\b(instance|pod)\b/);
    }
  });

  it('unit-tests every alert both firing and not yet firing', async () => {
    const rules = PrometheusRules.parse(await readYaml(GRAFANA_FILES.prometheusRules)).groups.flatMap((g) => g.rules);
    const evals = PromtoolTests.parse(await readYaml(RULES_TEST_FILE)).tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const alert of new Set(rules.map((r) => r.alert))) {
      const mine = evals.filter((e) => e.alertname === alert);
      expect(mine.some((e) => e.exp_alerts.length > 0), `${alert} fires in some test`).toBe(true);
      expect(mine.some((e) => e.exp_alerts.length === 0), `${alert} is absent (pending or quiet) in some test`).toBe(true);
    }
  });
});

// ---- the Grafana alert provisioning file ----------------------------------------------------------

describe('grafana/provisioning/alerting/driftwatch-alerts.yaml', () => {
  it('is a valid provisioning file whose rules chain a Prometheus query, a reduce and a threshold', async () => {
    const file = GrafanaAlerts.parse(await readYaml(GRAFANA_FILES.alerts));
    const rules = file.groups.flatMap((g) => g.rules);
    expect(new Set(rules.map((r) => r.uid)).size).toBe(rules.length);
    for (const rule of rules) {
      const byRef = new Map(rule.data.map((q) => [q.refId, q]));
      const condition = byRef.get(rule.condition);
      expect(condition, `${rule.uid}: condition ${rule.condition} is one of its queries`).toBeDefined();
      const threshold = Threshold.parse(condition?.model);
      const reduce = byRef.get(threshold.expression);
      expect(reduce?.model.type, rule.uid).toBe('reduce');
      const query = byRef.get(reduce?.model.expression ?? '');
      expect(query?.model.expr, rule.uid).toBeTruthy();
      // Grafana fills datasourceUid from its environment: the placeholder the header documents.
      for (const q of rule.data) expect(q.datasourceUid, `${rule.uid} ${q.refId}`).toBe(q.model.expr === undefined ? '__expr__' : '${DRIFTWATCH_PROMETHEUS_UID}');
      expect(['warning', 'critical']).toContain(rule.labels.severity);
    }
  });

  it('has the same alerts as the Prometheus rule file: titles, severities, for, query and comparison, annotations', async () => {
    const grafana = GrafanaAlerts.parse(await readYaml(GRAFANA_FILES.alerts)).groups.flatMap((g) => g.rules);
    const prometheus = PrometheusRules.parse(await readYaml(GRAFANA_FILES.prometheusRules)).groups.flatMap((g) => g.rules);
    const key = (name: string, severity: string | undefined) => `${name}/${severity ?? ''}`;
    expect(grafana.map((r) => key(r.title, r.labels.severity)).sort()).toEqual(prometheus.map((r) => key(r.alert, r.labels.severity)).sort());
    for (const rule of grafana) {
      const twin = prometheus.find((p) => key(p.alert, p.labels.severity) === key(rule.title, rule.labels.severity));
      if (twin === undefined) throw new Error(`no Prometheus rule for ${rule.uid}`);
      expect(rule.for, rule.uid).toBe(twin.for);
      const byRef = new Map(rule.data.map((q) => [q.refId, q]));
      const threshold = Threshold.parse(byRef.get(rule.condition)?.model);
      const query = byRef.get(byRef.get(threshold.expression)?.model.expression ?? '')?.model.expr ?? '';
      const [{ evaluator }] = threshold.conditions;
      const comparison = `${evaluator.type === 'gt' ? '>' : '<'}${String(evaluator.params[0])}`;
      expect([squash(query) + comparison, `(${squash(query)})${comparison}`], rule.uid).toContain(squash(twin.expr));
      // Grafana's $value is every query's value as text; $values.B.Value is the reduced number.
      expect(rule.annotations.summary.replaceAll('$values.B.Value', '$value'), rule.uid).toBe(twin.annotations.summary);
      expect(rule.annotations.description.replaceAll('$values.B.Value', '$value'), rule.uid).toBe(twin.annotations.description);
    }
  });

  it('keeps ${...} out of annotations and $ out of labels, which Grafana would expand from its environment', async () => {
    const rules = GrafanaAlerts.parse(await readYaml(GRAFANA_FILES.alerts)).groups.flatMap((g) => g.rules);
    for (const rule of rules) {
      for (const value of Object.values(rule.annotations)) expect(value, rule.uid).not.toContain('${');
      for (const value of Object.values(rule.labels)) expect(value, rule.uid).not.toContain('$');
    }
  });

  it('links every rule to an existing panel of the dashboard', async () => {
    const rules = GrafanaAlerts.parse(await readYaml(GRAFANA_FILES.alerts)).groups.flatMap((g) => g.rules);
    const dashboard = Dashboard.parse(await readDashboard());
    const ids = new Set(queryPanels(dashboard.panels).map((p) => p.id));
    for (const rule of rules) {
      expect(rule.dashboardUid, rule.uid).toBe(dashboard.uid);
      expect(ids.has(rule.panelId ?? -1), `${rule.uid} panel ${String(rule.panelId)}`).toBe(true);
    }
  });
});

// ---- the dashboard and its provider ------------------------------------------------------------------

describe('grafana/dashboards/driftwatch.json', () => {
  it('is a dashboard with a uid, a recent schemaVersion, unique panel ids and panels inside 24 columns', async () => {
    const dashboard = Dashboard.parse(await readDashboard());
    expect(dashboard.uid).toBe('driftwatch');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    const all = dashboard.panels.flatMap((p) => [p, ...z.array(Panel).parse(p.panels ?? [])]);
    expect(new Set(all.map((p) => p.id)).size).toBe(all.length);
    for (const p of all) expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
  });

  it('queries through the ${datasource} variable in every panel and target', async () => {
    const dashboard = Dashboard.parse(await readDashboard());
    const variable = dashboard.templating.list.find((v) => v.name === 'datasource');
    expect(variable).toMatchObject({ type: 'datasource', query: 'prometheus' });
    const panels = queryPanels(dashboard.panels);
    expect(panels.length).toBeGreaterThan(20);
    const viaVariable = { type: 'prometheus', uid: '${datasource}' };
    for (const panel of panels) {
      expect(panel.datasource, panel.title).toEqual(viaVariable);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.datasource, `${panel.title} ${target.refId}`).toEqual(viaVariable);
    }
  });

  it('filters by check, location and service variables built with label_values', async () => {
    const dashboard = Dashboard.parse(await readDashboard());
    for (const name of ['check', 'location', 'service']) {
      const variable = dashboard.templating.list.find((v) => v.name === name);
      expect(variable?.type, name).toBe('query');
      expect(variable?.datasource, name).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(String(variable?.query), name).toMatch(new RegExp(`^label_values\\(driftwatch_check_success.*, ${name}\\)$`));
    }
    const perCheck = dashboardExpressions(dashboard).filter((e) => e.source.includes('panel') && !/driftwatch_(checks|config_|scheduler_|check_run_duration)/.test(e.expr));
    for (const e of perCheck) expect(e.expr, e.source).toContain('check=~"$check"');
  });

  it('has a file provider for provisioning', async () => {
    const provider = z
      .object({ apiVersion: z.literal(1), providers: z.array(z.looseObject({ name: z.string(), type: z.literal('file'), options: z.looseObject({ path: z.string() }) })).length(1) })
      .parse(await readYaml(DASHBOARD_PROVIDER_FILE));
    expect(provider.providers[0]?.options.path).toMatch(/^\//);
  });
});

// ---- the PromQL of the dashboard and the alerts -------------------------------------------------------

describe('PromQL in the dashboard and the Grafana alerts', () => {
  it('parses, every expression (Grafana variables replaced), as promtool sees it', async () => {
    const found = readGrafanaExpressions();
    expect(found.length).toBeGreaterThan(40);
    const run = await checkParses('grafana', found.map((e) => e.expr));
    const listing = found.map((e, n) => `x_check_${n}: ${e.source}`).join('\n');
    expect(run.code, `${run.output}\n${listing}`).toBe(0);
  });

  it('the parse check does catch a broken expression', async () => {
    const run = await checkParses('broken', ['sum(rate(driftwatch_check_runs_total[$__rate_interval])', 'up']);
    expect(run.code).not.toBe(0);
    expect(run.output).toContain('x_check_0');
  });

  it('reads only metric names the daemon exports (histograms through _bucket, _sum, _count)', () => {
    const unknown = readGrafanaExpressions().flatMap((e) => metricNames(e.expr).filter((m) => !EXPORTED.has(m)).map((m) => `${m} in ${e.source}`));
    expect(unknown).toEqual([]);
  });

  it('the Prometheus rules read only exported metric names too', async () => {
    const found = prometheusRuleExpressions(await readYaml(GRAFANA_FILES.prometheusRules));
    expect(found.length).toBe(10);
    const unknown = found.flatMap((e) => metricNames(e.expr).filter((m) => !EXPORTED.has(m)).map((m) => `${m} in ${e.source}`));
    expect(unknown).toEqual([]);
  });

  it('the dashboard shows every family the daemon exports', async () => {
    const used = new Set(dashboardExpressions(await readDashboard()).flatMap((e) => metricNames(e.expr)));
    const missing = [...Object.keys(FAMILIES), ...DAEMON_GAUGES].filter((m) => !used.has(m));
    for (const h of HISTOGRAMS) if (!used.has(`${h}_bucket`)) missing.push(h);
    expect(missing).toEqual([]);
  });
});

// ---- test/support/promql.ts itself ---------------------------------------------------------------------

describe('test/support/promql.ts', () => {
  it('finds metric names, not functions, aggregations, keywords, labels or strings', () => {
    const expr = `sum by (le) (rate(a_bucket{x="b{c}", y=~"$check"}[5m] offset 1m)) / on (x) group_left (y) b_total
      and bool 1e3 > .5 # c_comment
      or {__name__="c_gauge"} unless histogram_quantile(0.99, d) * count_values("e", f) + label_replace(g, "h", "$1", "i", "(.*)")`;
    expect(metricNames(expr)).toEqual(['a_bucket', 'b_total', 'c_gauge', 'd', 'f', 'g']);
  });

  it('replaces Grafana variables and range macros with values Prometheus parses', () => {
    expect(substituteGrafanaVariables('increase(x{check=~"$check", l=~"${location:regex}", s=~"[[service]]"}[$__range]) / $__range_s + y[$__rate_interval]')).toBe(
      'increase(x{check=~".*", l=~".*", s=~".*"}[5m]) / 300 + y[5m]',
    );
  });

  it('takes the expression out of label_values and query_result variable queries', () => {
    expect(variableQueryExpression('label_values(up{job=~"a,b"}, instance)')).toBe('up{job=~"a,b"}');
    expect(variableQueryExpression('query_result(topk(5, up))')).toBe('topk(5, up)');
    expect(variableQueryExpression('label_values(instance)')).toBeUndefined();
  });

  it('walks collapsed rows, variables and alert data queries, skipping expressions', () => {
    const dashboard = {
      panels: [{ id: 1, type: 'row', title: 'r', panels: [{ id: 2, title: 'p', targets: [{ refId: 'A', expr: 'up' }] }] }],
      templating: { list: [{ type: 'query', name: 'v', query: { query: 'label_values(foo, bar)' } }] },
    };
    expect(dashboardExpressions(dashboard).map((e) => e.expr)).toEqual(['up', 'foo']);
    const alerts = { groups: [{ rules: [{ title: 't', uid: 'u', data: [{ refId: 'A', datasourceUid: 'x', model: { expr: 'up' } }, { refId: 'B', datasourceUid: '__expr__', model: { expression: 'A' } }] }] }] };
    expect(grafanaAlertExpressions(alerts)).toEqual([{ source: 'alert t (u) query A', expr: 'up' }]);
  });
});
