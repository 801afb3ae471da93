// Shapes of Node-RED 4.1 this platform uses (Node-RED ships no types).

/** One node of a flow configuration, as Node-RED stores and deploys it. */
export interface FlowNode {
  id: string;
  type: string;
  z?: string;
  name?: string;
  label?: string;
  credentials?: Record<string, string>;
  [key: string]: unknown;
}

export interface NodeRedUser {
  username: string;
  permissions: string | string[];
  /** Shown in the editor's user menu. */
  image?: string;
  [key: string]: unknown;
}
