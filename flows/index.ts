/**
 * Node-RED for the platform: the editor behind lab accounts on the platform's server, the flows in a
 * process of their own, and the curriculum's flows.
 */
export {
  editorPermissions,
  HOST_NODE_TYPES,
  type LabSignIn,
  type Person,
  refusedNodes,
  type SignInResult,
  type StudentAccess,
} from './access.ts';
export {
  BROKER_NODE_ID,
  CURRICULUM_DIR,
  CURRICULUM_FLOWS,
  type CurriculumFlowName,
  curriculumFlow,
  type FlowVariant,
  flowVariant,
  mergeFlows,
  NOTIFICATIONS_TOPIC,
  setEnv,
  tabOf,
} from './curriculum.ts';
export {
  type BrokerConnection,
  FlowsEditor,
  type FlowsLog,
  type FlowsOptions,
  INFLUX_NODE_ID,
  type InfluxStoreSettings,
  influxConfigNode,
} from './embed.ts';
export type { FlowNode } from './node-red.ts';
