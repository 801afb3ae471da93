import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './errors.ts';

export interface ServiceVerifier {
  verifyService(name: string, secret: string): Promise<boolean>;
}

/**
 * Until people log in (the lab API's identity work), the HTTP API is for platform service
 * accounts: HTTP Basic with the account's name and secret (`curl -u name:secret`).
 */
export function requireService(verifier: ServiceVerifier) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization ?? '';
    const match = /^Basic\s+(.+)$/i.exec(header);
    if (!match) {
      void reply.header('www-authenticate', 'Basic realm="iotlab"');
      throw new ApiError(401, 'AUTH_REQUIRED', 'sign in with a service account: HTTP Basic name:secret');
    }
    const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const name = colon > 0 ? decoded.slice(0, colon) : '';
    const secret = colon > 0 ? decoded.slice(colon + 1) : '';
    if (!name || !(await verifier.verifyService(name, secret))) {
      throw new ApiError(401, 'BAD_CREDENTIALS', 'unknown service account or wrong secret');
    }
  };
}
