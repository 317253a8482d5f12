/** The monitor's pure core: raw events → fields → rules → alerts (docs/monitor-rules.md). */
export { ConditionError, compileCondition, type ConditionScope, type Predicate } from './condition.js';
export { DEFAULT_RULES_FILE, DEFAULT_RULES_YAML } from './default-rules.js';
export { createEngine, type Engine, type EngineOptions, type EngineStats } from './engine.js';
export {
  alertSource,
  type EventFields,
  FIELDS,
  type FieldType,
  type FieldValue,
  normalizeCapability,
  toFields,
} from './fields.js';
export { MonitorMetrics } from './metrics.js';
export {
  type CompiledRule,
  formatRuleIssue,
  loadRuleSet,
  type OutputPart,
  parseRuleDuration,
  parseRules,
  type RuleIssue,
  type RuleSet,
  renderOutput,
} from './rules.js';
