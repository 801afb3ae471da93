import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FlowNode } from './node-red.ts';

/** The shared MQTT connection of every flow: the `mqtt-broker` config node with this id. */
export const BROKER_NODE_ID = 'iotlab-broker';

/** Where the kit-health flow tells instructors about kits (not retained, QoS 1). */
export const NOTIFICATIONS_TOPIC = 'iotlab/v1/notifications';

/** The curriculum flows shipped in `flows/curriculum/<name>.json`, each with `<name>.md`. */
export const CURRICULUM_FLOWS = ['threshold-alarm', 'closed-loop', 'data-cleaning', 'kit-health'] as const;
export type CurriculumFlowName = (typeof CURRICULUM_FLOWS)[number];

export const CURRICULUM_DIR = join(dirname(fileURLToPath(import.meta.url)), 'curriculum');

/** A shipped flow as Node-RED exports it: its tab, its nodes and the broker config node. */
export function curriculumFlow(name: CurriculumFlowName): FlowNode[] {
  return JSON.parse(readFileSync(join(CURRICULUM_DIR, `${name}.json`), 'utf8')) as FlowNode[];
}

/** The tab (flow) node of a flow configuration. */
export function tabOf(nodes: readonly FlowNode[]): FlowNode {
  const tab = nodes.find((node) => node.type === 'tab');
  if (!tab) throw new Error('the flow has no tab');
  return tab;
}

export interface FlowVariant {
  /** Suffix for every id of the copy (so it can run beside the original). */
  idSuffix: string;
  /** The tab's label. */
  label?: string;
  /** Tab environment variables to change, e.g. `{ SENSOR: 'gas', ABOVE: 400 }`. */
  env?: Record<string, string | number>;
}

/**
 * A copy of a shipped flow with other settings: new ids (the broker config node is kept shared)
 * and the tab's environment variables changed.
 */
export function flowVariant(nodes: readonly FlowNode[], variant: FlowVariant): FlowNode[] {
  const ids = new Map<string, string>();
  for (const node of nodes) {
    if (node.id !== BROKER_NODE_ID) ids.set(node.id, `${node.id}${variant.idSuffix}`);
  }
  const remap = (id: string) => ids.get(id) ?? id;
  return nodes
    .filter((node) => node.id !== BROKER_NODE_ID)
    .map((original) => {
      const node = structuredClone(original);
      node.id = remap(node.id);
      if (typeof node.z === 'string') node.z = remap(node.z);
      if (Array.isArray(node.wires)) {
        node.wires = (node.wires as string[][]).map((port) => port.map(remap));
      }
      if (node.type === 'tab') {
        if (variant.label) node.label = variant.label;
        node.env = setEnv(node.env, variant.env ?? {});
      }
      return node;
    });
}

/** Sets tab environment variables (numbers typed `num`, the rest `str`). */
export function setEnv(env: unknown, values: Record<string, string | number>): TabEnv[] {
  const list: TabEnv[] = Array.isArray(env) ? structuredClone(env as TabEnv[]) : [];
  for (const [name, value] of Object.entries(values)) {
    const entry: TabEnv = { name, value: String(value), type: typeof value === 'number' ? 'num' : 'str' };
    const index = list.findIndex((item) => item.name === name);
    if (index >= 0) list[index] = entry;
    else list.push(entry);
  }
  return list;
}

interface TabEnv {
  name: string;
  value: string;
  type: string;
}

/** The broker config node pointing at the platform broker (credentials are deployed separately). */
export function brokerNode(broker: { host: string; port: number }): FlowNode {
  const shipped = curriculumFlow('threshold-alarm').find((node) => node.id === BROKER_NODE_ID) as FlowNode;
  return { ...shipped, broker: broker.host, port: String(broker.port) };
}

/** `current` with `nodes` added, or replacing the nodes of the same id; order kept. */
export function mergeFlows(current: readonly FlowNode[], nodes: readonly FlowNode[]): FlowNode[] {
  const replacing = new Map(nodes.map((node) => [node.id, node]));
  const merged = current.map((node) => replacing.get(node.id) ?? node);
  const present = new Set(current.map((node) => node.id));
  return [...merged, ...nodes.filter((node) => !present.has(node.id))];
}
