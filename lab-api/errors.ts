import type { ErrorObject } from 'ajv';
import ajvZh from 'ajv-i18n/localize/zh/index.js';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorResponse } from '../contract/index.ts';
import { localTime } from './time.ts';

/** The languages the platform answers in: zh-CN first, English for the rest. */
export type Lang = 'zh-CN' | 'en';

/** A sentence for people, in both languages (the shape grading's evidence uses too). */
export interface Localized {
  'zh-CN': string;
  en: string;
}

/**
 * A sentence in both languages: English first (it is also what the server log says), then
 * Chinese — natural and short, as the college's staff would write it; write the spaces between
 * Chinese and Latin letters or digits by hand ("第 3 行"), since names must stay as they are.
 */
export const say = (en: string, zh: string): Localized => ({ 'zh-CN': zh, en });

const ROLE_ZH: Record<string, string> = {
  admin: '管理员',
  instructor: '教师',
  mentor: '企业导师',
  student: '学生',
};

/** A role as Chinese readers call it (教师, 企业导师…). */
export function roleZh(role: string): string {
  return ROLE_ZH[role] ?? role;
}

/** A time for a Chinese reader: "2026-03-05 14:00（北京时间）" (China has one time zone). */
export function zhTime(ms: number): string {
  return `${localTime(ms, 'Asia/Shanghai')}（北京时间）`;
}

/**
 * A coded error with an HTTP status and a message in both languages; the one error handler turns
 * it into the one error body in the request's language. `message` is the English text (logs, the
 * CLI); `details` is structured data a client needs to act on it (row errors, the current version).
 */
export class ApiError extends Error {
  readonly statusCode: number;
  readonly code: string;
  readonly text: Localized;
  readonly details: Record<string, unknown> | undefined;
  constructor(statusCode: number, code: string, text: Localized, details?: Record<string, unknown>) {
    super(text.en);
    this.name = 'ApiError';
    this.statusCode = statusCode;
    this.code = code;
    this.text = text;
    this.details = details;
  }
}

/**
 * Every error answer has this shape (contract/primitives.ts `ErrorResponse`): a stable code for
 * programs, a sentence for people in the request's language, and `details` when a person must act.
 */
export type ErrorBody = ErrorResponse;

/**
 * The request's language: `Accept-Language` starting with `zh` (zh, zh-CN, zh-Hans, zh-TW…)
 * answers in Chinese, anything else (or none) in English. The dashboards send their UI's language.
 */
export function requestLang(request: { headers: Record<string, unknown> }): Lang {
  const header = request.headers['accept-language'];
  return typeof header === 'string' && /^\s*zh\b/i.test(header) ? 'zh-CN' : 'en';
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

/** Fastify's own errors people can meet (a broken body, a wrong content type, a bad URL). */
const FASTIFY_TEXT: Record<string, Localized> = {
  FST_ERR_CTP_INVALID_JSON_BODY: say('the body is not valid JSON', '请求内容不是有效的 JSON'),
  FST_ERR_CTP_EMPTY_JSON_BODY: say(
    'the body is empty but its content type is application/json',
    '请求内容为空，但内容类型是 application/json',
  ),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: say('this content type is not accepted here', '不支持这种内容类型'),
  FST_ERR_CTP_BODY_TOO_LARGE: say('the body is too large', '上传的内容太大'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: say(
    'the Content-Length does not match the body',
    '请求的 Content-Length 与内容不符',
  ),
  FST_ERR_BAD_URL: say('the address is not a valid URL', '请求地址无效'),
  FST_ERR_ASYNC_CONSTRAINT: say('the request could not be routed', '无法处理这个请求地址'),
};

/** Any other error below 500 without a text of ours: a sentence by status, in both languages. */
const STATUS_SAY: Record<number, Localized> = {
  400: say('the request is not valid', '请求有误'),
  401: say('sign in first', '请先登录'),
  403: say('you may not do this', '您无权进行此操作'),
  404: say('not found', '找不到要访问的内容'),
  405: say('this method is not allowed here', '不支持这种请求方式'),
  406: say('no acceptable answer format', '无法以所需格式答复'),
  408: say('the request took too long', '请求超时'),
  409: say('this conflicts with the current state', '操作与当前状态冲突'),
  413: say('the body is too large', '上传的内容太大'),
  415: say('this content type is not accepted here', '不支持这种内容类型'),
  429: say('too many requests: try again later', '请求太频繁，请稍后再试'),
};

const INTERNAL = say(
  'internal error; the server log has the details',
  '服务器内部错误，详情已记入服务器日志',
);

const CONTEXT: Record<string, Localized> = {
  body: say('body', '请求内容'),
  querystring: say('querystring', '查询参数'),
  params: say('params', '路径参数'),
  headers: say('headers', '请求头'),
};

// ajv-i18n is CommonJS: under Node's ESM its function is the module's default (as with ajv-formats).
const localizeZh = ((ajvZh as unknown as { default?: unknown }).default ?? ajvZh) as (
  errors: ErrorObject[],
) => void;

const TYPE_ZH: Record<string, string> = {
  string: '文本',
  number: '数字',
  integer: '整数',
  boolean: 'true 或 false',
  object: '对象',
  array: '数组',
  null: 'null',
};

const FORMAT_ZH: Record<string, string> = {
  uuid: 'UUID 编号',
  'date-time': '日期时间（ISO 8601）',
  date: '日期（YYYY-MM-DD）',
  email: '邮箱地址',
  uri: '网址',
};

/** "a.b.c": where in the body (or query…) the problem is; `value` for the whole of it. */
function fieldOf(issue: ErrorObject): string {
  const params = issue.params as { missingProperty?: string; additionalProperty?: string };
  const path = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
  const child = params.missingProperty ?? params.additionalProperty;
  if (child !== undefined) return path ? `${path}.${child}` : child;
  return path || 'value';
}

/**
 * Ajv's problems in Chinese: ajv-i18n's zh locale, except where a plainer sentence reads better
 * (a missing or unknown field, a type, a list of allowed values, a format).
 */
function zhIssue(issue: ErrorObject): string {
  const params = issue.params as Record<string, unknown>;
  const field = fieldOf(issue);
  switch (issue.keyword) {
    case 'required':
      return `缺少 ${field}`;
    case 'additionalProperties':
      return `${field} 不是可用的字段`;
    case 'type': {
      const types = String(params.type).split(',');
      return `${field} 应为${types.map((type) => TYPE_ZH[type] ?? type).join('或')}`;
    }
    case 'enum':
      return `${field} 只能是 ${((params.allowedValues as unknown[]) ?? []).map((v) => JSON.stringify(v)).join('、')} 之一`;
    case 'const':
      return `${field} 只能是 ${JSON.stringify(params.allowedValue)}`;
    case 'format': {
      const format = String(params.format);
      return `${field} 应为${FORMAT_ZH[format] ?? `“${format}”格式`}`;
    }
    case 'anyOf':
    case 'oneOf':
      return `${field} 不符合任何一种可用的写法`;
  }
  const copy = [{ ...issue }];
  localizeZh(copy);
  return `${field} ${copy[0]?.message ?? issue.message ?? ''}`;
}

/** A validation failure (Ajv, via fastify) as one sentence in each language. */
export function validationText(issues: readonly ErrorObject[], context = 'request'): Localized {
  const where = CONTEXT[context] ?? say(context, '请求');
  return say(
    // As before: the field path (or the missing property) and Ajv's English.
    `invalid ${where.en}: ${issues
      .map(
        (issue) =>
          `${issue.instancePath.replace(/^\//, '').replaceAll('/', '.') || (issue.params as { missingProperty?: string }).missingProperty || 'value'} ${issue.message}`,
      )
      .join('; ')}`,
    `${where['zh-CN']}有误：${issues.map(zhIssue).join('；')}`,
  );
}

interface Answer {
  statusCode: number;
  code: string;
  text: Localized;
  details?: Record<string, unknown> | undefined;
}

/** Whatever was thrown, as the status, code, sentence and details of the answer. */
function answerFor(error: FastifyError | ApiError): Answer {
  if (error instanceof ApiError) {
    return { statusCode: error.statusCode, code: error.code, text: error.text, details: error.details };
  }
  if (error.validation) {
    return {
      statusCode: 400,
      code: 'INVALID_REQUEST',
      text: validationText(error.validation as ErrorObject[], error.validationContext),
    };
  }
  const statusCode = error.statusCode ?? 500;
  if (statusCode >= 500) return { statusCode, code: 'INTERNAL_ERROR', text: INTERNAL };
  const known = error.code ? FASTIFY_TEXT[error.code] : undefined;
  const generic = STATUS_SAY[statusCode] ?? STATUS_SAY[400] ?? INTERNAL;
  return {
    statusCode,
    code: error.code ?? 'BAD_REQUEST',
    // Our English where we have it, else the thrower's (a plugin's) English beside our Chinese.
    text: known ?? say(error.message || generic.en, generic['zh-CN']),
  };
}

function send(request: FastifyRequest, reply: FastifyReply, answer: Answer): void {
  const body: ErrorBody = {
    statusCode: answer.statusCode,
    code: answer.code,
    error: STATUS_TEXT[answer.statusCode] ?? 'Error',
    message: answer.text[requestLang(request)],
  };
  if (answer.details) body.details = answer.details;
  void reply.status(answer.statusCode).send(body);
}

/** Answers an error thrown before routing (fastify's `frameworkErrors`: a malformed URL). */
export function frameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  send(request, reply, answerFor(error));
}

/**
 * The one error handler: every error answers `{statusCode, code, error, message, details?}` with
 * `message` in the request's language (see `requestLang`). The log gets the English sentence and
 * the code; unexpected errors (5xx) are logged whole and answered without their details.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const answer = answerFor(error);
    if (answer.code === 'INTERNAL_ERROR') request.log.error({ err: error }, 'request failed');
    else
      request.log.info(
        { statusCode: answer.statusCode, code: answer.code, reason: answer.text.en },
        'request refused',
      );
    send(request, reply, answer);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    send(request, reply, {
      statusCode: 404,
      code: 'ROUTE_NOT_FOUND',
      text: say(`no route ${request.method} ${path}`, `没有这个接口：${request.method} ${path}`),
    });
  });
}
