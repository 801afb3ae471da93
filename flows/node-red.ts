import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';

/**
 * The parts of Node-RED's embedding API (`require('node-red')`, a CommonJS singleton) this platform
 * uses. Node-RED ships no types; these are checked against 4.1.
 */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

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

export interface NodeRed {
  init(server: unknown, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly httpAdmin: Middleware;
  readonly httpNode: Middleware;
  readonly version: () => string;
  readonly runtime: {
    flows: {
      getFlows(opts: { user?: NodeRedUser }): Promise<{ rev: string; flows: FlowNode[] } | null>;
      setFlows(opts: {
        flows: { flows: FlowNode[]; credentials?: Record<string, Record<string, string>>; rev?: string };
        deploymentType?: 'full' | 'nodes' | 'flows' | 'reload';
        user?: NodeRedUser;
      }): Promise<{ rev: string }>;
    };
    nodes: {
      getNodeInfo(opts: { id: string }): Promise<unknown>;
    };
  };
  readonly nodes: { getType(type: string): unknown; getNode(id: string): unknown };
  readonly events: {
    on(event: string, listener: (...args: unknown[]) => void): void;
    removeListener(event: string, listener: (...args: unknown[]) => void): void;
  };
}

let red: NodeRed | undefined;

/** Node-RED, loaded on first use (it takes a moment, and tests without flows never pay for it). */
export function nodeRed(): NodeRed {
  red ??= createRequire(import.meta.url)('node-red') as NodeRed;
  return red;
}
