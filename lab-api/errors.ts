import type { FastifyError, FastifyInstance } from 'fastify';

/** A coded error with an HTTP status; the one error handler turns it into the one error body. */
export class ApiError extends Error {
  readonly statusCode: number;
  readonly code: string;
  constructor(statusCode: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.statusCode = statusCode;
    this.code = code;
  }
}

/** Every error answer has this shape: a stable code for programs and a sentence for people. */
export interface ErrorBody {
  statusCode: number;
  code: string;
  error: string;
  message: string;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    let statusCode = error.statusCode ?? 500;
    let code = error.code ?? 'INTERNAL_ERROR';
    let message = error.message;
    if (error.validation) {
      statusCode = 400;
      code = 'INVALID_REQUEST';
      message = `invalid ${error.validationContext ?? 'request'}: ${error.validation
        .map(
          (issue) =>
            `${issue.instancePath.replace(/^\//, '').replaceAll('/', '.') || (issue.params as { missingProperty?: string }).missingProperty || 'value'} ${issue.message}`,
        )
        .join('; ')}`;
    } else if (statusCode >= 500) {
      request.log.error({ err: error }, 'request failed');
      code = 'INTERNAL_ERROR';
      message = 'internal error; the server log has the details';
    }
    const body: ErrorBody = { statusCode, code, error: STATUS_TEXT[statusCode] ?? 'Error', message };
    void reply.status(statusCode).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const body: ErrorBody = {
      statusCode: 404,
      code: 'ROUTE_NOT_FOUND',
      error: 'Not Found',
      message: `no route ${request.method} ${request.url.split('?')[0]}`,
    };
    void reply.status(404).send(body);
  });
}
