// What a PromQL expression reads, for checking the alert rules and the Grafana board of
// deploy/monitoring/ against a real master's GET /metrics: the metric names with their label
// matchers, and the labels it groups or joins on. A small tokenizer, not a full parser: it
// knows PromQL's strings, numbers and durations, range and subquery brackets, keywords,
// aggregation operators, functions (a name followed by `(`) and Grafana's `$variables`. The
// syntax itself is checked by promtool (the tests feed it every expression).

export interface LabelMatcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

export interface Selector {
  metric: string;
  matchers: LabelMatcher[];
}

export interface ExpressionNames {
  selectors: Selector[];
  /** labels in by (...), without (...), on (...), ignoring (...), group_left (...), group_right (...) */
  groupingLabels: string[];
}

type Token =
  | { kind: 'ident'; text: string }
  | { kind: 'string'; text: string }
  | { kind: 'number'; text: string }
  | { kind: 'variable'; text: string }
  | { kind: 'punct'; text: string };

const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio']);
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2', 'inf', 'nan', ...GROUPING]);
const PUNCTUATION = ['=~', '!~', '!=', '==', '>=', '<=', '{', '}', '(', ')', '[', ']', ',', '=', '>', '<', '+', '-', '*', '/', '%', '^', '@', ':'];

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === '#') {
      while (i < expr.length && expr[i] !== '\n') i += 1;
    } else if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      let text = '';
      while (j < expr.length && expr[j] !== c) {
        if (expr[j] === '\\' && c !== '`') {
          text += expr[j + 1] ?? '';
          j += 2;
        } else {
          text += expr[j];
          j += 1;
        }
      }
      if (j >= expr.length) throw new Error(`unterminated string in: ${expr}`);
      tokens.push({ kind: 'string', text });
      i = j + 1;
    } else if (c === '$') {
      const match = /^\$(\{[^}]*\}|[A-Za-z0-9_]+)/.exec(expr.slice(i));
      if (!match) throw new Error(`a lone $ in: ${expr}`);
      tokens.push({ kind: 'variable', text: match[0] });
      i += match[0].length;
    } else if (/[0-9.]/.test(c)) {
      // numbers (1, 0.25, 1e3, 0x1f) and durations (5m, 1h30m)
      const match = /^[0-9.][0-9a-zA-Z_.]*/.exec(expr.slice(i))!;
      tokens.push({ kind: 'number', text: match[0] });
      i += match[0].length;
    } else if (/[A-Za-z_:]/.test(c)) {
      const match = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(expr.slice(i))!;
      tokens.push({ kind: 'ident', text: match[0] });
      i += match[0].length;
    } else {
      const punct = PUNCTUATION.find((p) => expr.startsWith(p, i));
      if (!punct) throw new Error(`unexpected ${JSON.stringify(c)} in: ${expr}`);
      tokens.push({ kind: 'punct', text: punct });
      i += punct.length;
    }
  }
  return tokens;
}

/** The metric names, label matchers and grouping labels one PromQL expression reads. */
export function expressionNames(expr: string): ExpressionNames {
  const tokens = tokenize(expr);
  const selectors: Selector[] = [];
  const groupingLabels: string[] = [];
  const at = (i: number): Token | undefined => tokens[i];
  const isPunct = (i: number, text: string): boolean => at(i)?.kind === 'punct' && at(i)?.text === text;

  /** Reads `{label op "value", ...}` from the `{` at i; answers the matchers and the index after `}`. */
  const readMatchers = (start: number): { matchers: LabelMatcher[]; next: number } => {
    const matchers: LabelMatcher[] = [];
    let i = start + 1;
    while (!isPunct(i, '}')) {
      const label = at(i);
      const op = at(i + 1);
      const value = at(i + 2);
      if (label?.kind !== 'ident' || op?.kind !== 'punct' || !['=', '!=', '=~', '!~'].includes(op.text) || value?.kind !== 'string') {
        throw new Error(`cannot read the label matchers in: ${expr}`);
      }
      matchers.push({ label: label.text, op: op.text as LabelMatcher['op'], value: value.text });
      i += 3;
      if (isPunct(i, ',')) i += 1;
    }
    return { matchers, next: i + 1 };
  };

  let i = 0;
  while (i < tokens.length) {
    const token = tokens[i]!;
    if (token.kind === 'punct' && token.text === '[') {
      // a range or subquery: durations, `:`, Grafana variables
      while (i < tokens.length && !isPunct(i, ']')) i += 1;
      i += 1;
      continue;
    }
    if (token.kind === 'punct' && token.text === '{') {
      // a selector without a name: {__name__="..."}
      const { matchers, next } = readMatchers(i);
      const name = matchers.find((m) => m.label === '__name__' && m.op === '=');
      if (!name) throw new Error(`a selector without a metric name in: ${expr}`);
      selectors.push({ metric: name.value, matchers: matchers.filter((m) => m !== name) });
      i = next;
      continue;
    }
    if (token.kind !== 'ident') {
      i += 1;
      continue;
    }
    if (GROUPING.has(token.text)) {
      i += 1;
      if (isPunct(i, '(')) {
        i += 1;
        while (i < tokens.length && !isPunct(i, ')')) {
          const label = tokens[i]!;
          if (label.kind === 'ident') groupingLabels.push(label.text);
          i += 1;
        }
        i += 1;
      }
      continue;
    }
    if (KEYWORDS.has(token.text) || AGGREGATIONS.has(token.text) || isPunct(i + 1, '(')) {
      // a keyword, an aggregation, or a function call
      i += 1;
      continue;
    }
    if (isPunct(i + 1, '{')) {
      const { matchers, next } = readMatchers(i + 1);
      selectors.push({ metric: token.text, matchers });
      i = next;
    } else {
      selectors.push({ metric: token.text, matchers: [] });
      i += 1;
    }
  }
  return { selectors, groupingLabels };
}

/** One family of GET /metrics: its type and, per label, the values its samples carry. */
export interface ExposedMetric {
  type: string;
  labels: Map<string, Set<string>>;
}

/**
 * The metrics of a Prometheus text exposition, by sample name. A histogram's or summary's
 * `_bucket`, `_sum` and `_count` samples are listed under their own names (`le` is a label of
 * `_bucket`) and the family under its base name.
 */
export function exposedMetrics(text: string): Map<string, ExposedMetric> {
  const metrics = new Map<string, ExposedMetric>();
  const entry = (name: string, type: string): ExposedMetric => {
    let metric = metrics.get(name);
    if (!metric) {
      metric = { type, labels: new Map() };
      metrics.set(name, metric);
    }
    return metric;
  };
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const typeLine = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (typeLine) {
      types.set(typeLine[1]!, typeLine[2]!);
      entry(typeLine[1]!, typeLine[2]!);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const sample = /^([A-Za-z_:][A-Za-z0-9_:]*)(\{.*\})?\s/.exec(line);
    if (!sample) throw new Error(`cannot read the sample line: ${line}`);
    const name = sample[1]!;
    const base = name.replace(/_(bucket|sum|count)$/, '');
    const metric = entry(name, types.get(name) ?? types.get(base) ?? 'untyped');
    for (const [, label, value] of (sample[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      let values = metric.labels.get(label!);
      if (!values) {
        values = new Set();
        metric.labels.set(label!, values);
      }
      values.add(value!.replace(/\\(.)/g, (_, escaped: string) => (escaped === 'n' ? '\n' : escaped)));
    }
  }
  return metrics;
}
