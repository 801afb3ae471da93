/**
 * Every error a person can read is in their language (issue 14, item 12): each ApiError the lab
 * API raises carries a zh-CN and an en sentence; the error handler answers in the request's
 * language (Accept-Language: zh… → zh-CN, else en) and logs the English.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import formats from 'ajv-formats';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RosterErrorResponse } from '../../contract/index.ts';
import { ApiError, requestLang, validationText, zhTime } from '../../lab-api/errors.ts';
import { passwordProblem } from '../../lab-api/passwords.ts';
import { registryError } from '../../lab-api/routes/kits.ts';
import { RegistryError } from '../../labdb/index.ts';
import { PASSWORD, startTestLab, type TestLab } from '../helpers/lab.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CHINESE = /[\u4e00-\u9fff]/;

function sources(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) files.push(path);
    }
  };
  walk(join(ROOT, 'lab-api'));
  return [...files, join(ROOT, 'flows', 'routes.ts')];
}

/**
 * The texts an argument can be: a string or template literal's fixed text (placeholders as `{}`),
 * each branch of a conditional, the parts of a `+`; with the source of what is put in. Undefined:
 * computed some other way (a variable, a call).
 */
function literalTexts(node: ts.Node): { text: string; inserted: string[] }[] | undefined {
  if (ts.isParenthesizedExpression(node)) return literalTexts(node.expression);
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node))
    return [{ text: node.text, inserted: [] }];
  if (ts.isTemplateExpression(node)) {
    return [
      {
        text: node.head.text + node.templateSpans.map((span) => `{}${span.literal.text}`).join(''),
        inserted: node.templateSpans.map((span) => span.expression.getText()),
      },
    ];
  }
  if (ts.isConditionalExpression(node)) {
    const a = literalTexts(node.whenTrue);
    const b = literalTexts(node.whenFalse);
    return a && b ? [...a, ...b] : undefined;
  }
  if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    const a = literalTexts(node.left);
    const b = literalTexts(node.right);
    return a && b
      ? a.flatMap((x) => b.map((y) => ({ text: x.text + y.text, inserted: [...x.inserted, ...y.inserted] })))
      : undefined;
  }
  return undefined;
}

/** Chinese put in from elsewhere: another sentence's zh-CN, or a helper that writes Chinese. */
const CHINESE_SOURCE = /zh-CN|Zh\b|ZH\b|Zh\(/;

/** Whether an English argument says something (a computed one is trusted: checked at run time). */
function englishOk(node: ts.Node | undefined): boolean {
  if (!node) return false;
  const texts = literalTexts(node);
  return (
    texts === undefined ||
    texts.every(({ text, inserted }) => text.replaceAll('{}', '').trim() !== '' || inserted.length > 0)
  );
}

/** Whether a Chinese argument is Chinese: in its own words, or put together from Chinese parts. */
function chineseOk(node: ts.Node | undefined): boolean {
  if (!node) return false;
  const texts = literalTexts(node);
  if (texts === undefined) return CHINESE_SOURCE.test(node.getText());
  return texts.every(
    ({ text, inserted }) => CHINESE.test(text) || inserted.some((source) => CHINESE_SOURCE.test(source)),
  );
}

/** The `say(en, zh)` calls an expression is made of (a conditional: both branches); [] if none. */
function sayCalls(node: ts.Expression): ts.CallExpression[] | undefined {
  if (ts.isParenthesizedExpression(node)) return sayCalls(node.expression);
  if (ts.isConditionalExpression(node)) {
    const a = sayCalls(node.whenTrue);
    const b = sayCalls(node.whenFalse);
    return a && b ? [...a, ...b] : undefined;
  }
  if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'say') {
    return [node];
  }
  return undefined;
}

/**
 * Messages put together from parts, each part a `say(…)` (checked below with every other `say`),
 * and the whole checked at run time in this file.
 */
const COMPOSED = new Map<string, string>([
  ['WEAK_PASSWORD', 'problem'], // passwordProblem(): say(…) per rule
  ['ALREADY_EXISTS', 'message'], // uniqueViolation(error, say(…))
]);

interface Site {
  file: string;
  line: number;
  code: string;
  /** The say(…) calls that make its message: whether each has its English and its Chinese. */
  texts: { source: string; en: boolean; zh: boolean }[];
}

interface SayCall {
  file: string;
  line: number;
  en: boolean;
  zh: boolean;
}

function scan(): { sites: Site[]; says: SayCall[] } {
  const sites: Site[] = [];
  const says: SayCall[] = [];
  for (const file of sources()) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const where = (node: ts.Node) => ({
      file: relative(ROOT, file),
      line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1,
    });
    const visit = (node: ts.Node) => {
      if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'say') {
        const [en, zh] = node.arguments;
        says.push({ ...where(node), en: englishOk(en), zh: chineseOk(zh) });
      }
      const isApiError =
        (ts.isNewExpression(node) &&
          ts.isIdentifier(node.expression) &&
          node.expression.text === 'ApiError') ||
        // The constructor of a subclass (RosterRejected) calls super(status, code, text).
        (ts.isCallExpression(node) &&
          node.expression.kind === ts.SyntaxKind.SuperKeyword &&
          node.arguments.length >= 3);
      if (isApiError) {
        const args = (node as ts.NewExpression | ts.CallExpression).arguments ?? ts.factory.createNodeArray();
        const [, codeArg, textArg] = args;
        const code = codeArg && ts.isStringLiteral(codeArg) ? codeArg.text : (codeArg?.getText() ?? '?');
        const calls = textArg ? sayCalls(textArg) : undefined;
        const texts = (calls ?? []).map((call) => ({
          source: call.getText().slice(0, 120),
          en: englishOk(call.arguments[0]),
          zh: chineseOk(call.arguments[1]),
        }));
        if (!calls && COMPOSED.get(code) !== textArg?.getText()) {
          // Neither a say(…) nor a known composed message: an unlocalized site.
          texts.push({ source: textArg?.getText() ?? '(none)', en: false, zh: false });
        }
        sites.push({ ...where(node), code, texts });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { sites, says };
}

describe('every error code has a message in both languages', () => {
  const { sites, says } = scan();

  it('finds the ApiErrors raised in the lab API (about 130)', () => {
    expect(sites.length).toBeGreaterThan(120);
    const codes = new Set(sites.map((site) => site.code));
    for (const code of [
      'BAD_LOGIN',
      'ROSTER_INVALID',
      'VERSION_CONFLICT',
      'INVALID_RUBRIC',
      'NOT_YOUR_CLASS',
    ])
      expect(codes).toContain(code);
  });

  it('each ApiError says its message with say(english, 中文), the Chinese in Chinese', () => {
    const bad = sites.flatMap((site) =>
      site.texts
        .filter((text) => !text.en || !text.zh)
        .map((text) => `${site.file}:${site.line} ${site.code}: ${text.source}`),
    );
    expect(bad).toEqual([]);
  });

  it('each say(…) in the lab API has English and Chinese (a literal or a template)', () => {
    const bad = says.filter((entry) => !entry.en || !entry.zh).map((entry) => `${entry.file}:${entry.line}`);
    expect(says.length).toBeGreaterThan(150);
    expect(bad).toEqual([]);
  });

  it("maps every one of the kit registry's codes to both languages", () => {
    const codes = {
      KIT_EXISTS: 409,
      KIT_NOT_FOUND: 404,
      INVALID_KIT_ID: 400,
      INVALID_KIND: 400,
      SERVICE_EXISTS: 409,
      SERVICE_NOT_FOUND: 404,
      INVALID_SERVICE_NAME: 400,
      INVALID_SCOPE: 400,
      USB_SERIAL_TAKEN: 409,
      KIT_NAME_TOO_LONG: 400,
      USB_SERIAL_TOO_LONG: 400,
      SERVICE_DESCRIPTION_TOO_LONG: 400,
    } satisfies Record<RegistryError['code'], number>;
    for (const [code, status] of Object.entries(codes)) {
      const error = registryError(
        new RegistryError(code as RegistryError['code'], `labdb says ${code}`),
        'kit-7',
      );
      expect(error).toBeInstanceOf(ApiError);
      expect(error).toMatchObject({ statusCode: status, code, message: `labdb says ${code}` });
      expect((error as ApiError).text['zh-CN']).toMatch(CHINESE);
    }
    expect(
      (registryError(new RegistryError('KIT_EXISTS', 'x'), 'kit-7') as ApiError).text['zh-CN'],
    ).toContain('kit-7');
  });

  it('says each password rule in both languages', () => {
    for (const password of ['short', 'x'.repeat(201), '12345678901234']) {
      const problem = passwordProblem(password);
      expect(problem?.en).toMatch(/password/);
      expect(problem?.['zh-CN']).toMatch(/密码/);
    }
    expect(passwordProblem('a fine passphrase')).toBeUndefined();
  });
});

describe('the request language', () => {
  it('is zh-CN when Accept-Language starts with zh, English otherwise', () => {
    const lang = (header?: string) =>
      requestLang({ headers: header === undefined ? {} : { 'accept-language': header } });
    expect(lang('zh-CN')).toBe('zh-CN');
    expect(lang('zh-CN,zh;q=0.9,en;q=0.8')).toBe('zh-CN');
    expect(lang('zh')).toBe('zh-CN');
    expect(lang('ZH-tw')).toBe('zh-CN');
    expect(lang('en')).toBe('en');
    expect(lang('en-US,en;q=0.9,zh-CN;q=0.8')).toBe('en');
    expect(lang('zhx')).toBe('en');
    expect(lang('')).toBe('en');
    expect(lang()).toBe('en');
  });

  it('writes times for Chinese readers in Beijing time', () => {
    expect(zhTime(Date.UTC(2026, 2, 5, 6, 0))).toBe('2026-03-05 14:00（北京时间）');
  });
});

describe('validation errors in both languages', () => {
  const ajv = new Ajv({ allErrors: false, strict: false });
  ((formats as unknown as { default?: (a: Ajv) => Ajv }).default ?? (formats as unknown as (a: Ajv) => Ajv))(
    ajv,
  );
  const issues = (schema: object, value: unknown): ErrorObject[] => {
    const validate = ajv.compile(schema);
    expect(validate(value)).toBe(false);
    return validate.errors ?? [];
  };
  const object = (properties: Record<string, object>, extra: object = {}) => ({
    type: 'object',
    properties,
    ...extra,
  });
  const cases: [string, object, unknown, RegExp][] = [
    ['required', object({ name: { type: 'string' } }, { required: ['name'] }), {}, /缺少 name/],
    ['type', object({ n: { type: 'integer' } }), { n: 'x' }, /n 应为整数/],
    ['minLength', object({ s: { type: 'string', minLength: 10 } }), { s: 'x' }, /s 不应少于 10 个字符/],
    ['maxLength', object({ s: { type: 'string', maxLength: 2 } }), { s: 'xyz' }, /s 不应多于 2 个字符/],
    ['pattern', object({ s: { type: 'string', pattern: '^[a-z]+$' } }), { s: 'X' }, /s 应当匹配模式/],
    ['format', object({ id: { type: 'string', format: 'uuid' } }), { id: 'x' }, /id 应为UUID 编号/],
    ['minimum', object({ n: { type: 'number', minimum: 1 } }), { n: 0 }, /n 应当为 >= 1/],
    ['maximum', object({ n: { type: 'number', maximum: 5 } }), { n: 9 }, /n 应当为 <= 5/],
    ['enum', object({ e: { enum: ['none', 'read'] } }), { e: 'all' }, /e 只能是 "none"、"read" 之一/],
    ['const', object({ c: { const: 'x' } }), { c: 'y' }, /c 只能是 "x"/],
    [
      'additionalProperties',
      object({ a: { type: 'string' } }, { additionalProperties: false }),
      { a: 'x', b: 1 },
      /b 不是可用的字段/,
    ],
    ['minItems', object({ l: { type: 'array', minItems: 1 } }), { l: [] }, /l 不应少于 1 个项/],
    ['maxItems', object({ l: { type: 'array', maxItems: 1 } }), { l: [1, 2] }, /l 不应多于 1 个项/],
    ['uniqueItems', object({ l: { type: 'array', uniqueItems: true } }), { l: [1, 1] }, /l 不应当含有重复项/],
    [
      'anyOf',
      object({ u: { anyOf: [{ type: 'string' }, { type: 'null' }] } }),
      { u: 1 },
      /u 不符合任何一种可用的写法/,
    ],
  ];
  for (const [keyword, schema, value, zh] of cases) {
    it(`says ${keyword} in Chinese with the field, and in English as before`, () => {
      const found = issues(schema, value);
      expect(found.map((issue) => issue.keyword)).toContain(keyword);
      const text = validationText(found, 'body');
      expect(text['zh-CN']).toMatch(/^请求内容有误：/);
      expect(text['zh-CN']).toMatch(zh);
      expect(text.en).toMatch(/^invalid body: /);
      expect(text.en).not.toMatch(CHINESE);
    });
  }
});

describe('answers in the language of the request', () => {
  let lab: TestLab;
  beforeAll(async () => {
    lab = await startTestLab();
  }, 60_000);
  afterAll(async () => {
    await lab.close();
  });
  const ZH = { 'accept-language': 'zh-CN,zh;q=0.9,en;q=0.8' };
  const EN = { 'accept-language': 'en-GB,en;q=0.9' };

  it('a failed sign-in: 用户名或密码错误 in Chinese, the English otherwise, the code either way', async () => {
    const login = (headers: Record<string, string>) =>
      lab.call({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers,
        payload: { username: lab.users.student.username, password: 'not-the-password' },
      });
    const zh = await login(ZH);
    expect(zh.statusCode).toBe(401);
    expect(zh.json()).toEqual({
      statusCode: 401,
      code: 'BAD_LOGIN',
      error: 'Unauthorized',
      message: '用户名或密码错误',
    });
    expect((await login(EN)).json()).toMatchObject({
      code: 'BAD_LOGIN',
      message: 'wrong username or password',
    });
    expect((await login({})).json()).toMatchObject({ message: 'wrong username or password' });
    const ok = await lab.call({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: ZH,
      payload: { username: lab.users.student.username, password: PASSWORD },
    });
    expect(ok.statusCode).toBe(200);
  });

  it('a validation error names the field, in Chinese or English', async () => {
    const bad = (headers: Record<string, string>) =>
      lab.call({ method: 'POST', url: '/api/v1/auth/login', headers, payload: { username: 'x' } });
    const zh = await bad(ZH);
    expect(zh.statusCode).toBe(400);
    expect(zh.json()).toMatchObject({ code: 'INVALID_REQUEST', message: '请求内容有误：缺少 password' });
    expect((await bad(EN)).json()).toMatchObject({
      code: 'INVALID_REQUEST',
      message: "invalid body: password must have required property 'password'",
    });
    const short = await lab.call({
      method: 'POST',
      url: '/api/v1/me/password',
      as: lab.users.student,
      headers: ZH,
      payload: { currentPassword: PASSWORD, newPassword: 'x'.repeat(300) },
    });
    expect(short.statusCode).toBe(400);
    expect(short.json().message).toMatch(/^请求内容有误：newPassword /);
  });

  it("a roster with bad rows: the rows in details with problem codes, every sentence in the reader's language", async () => {
    const created = await lab.call({
      method: 'POST',
      url: '/api/v1/classes',
      as: lab.users.instructor,
      payload: { name: '物联网2409' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const upload = (headers: Record<string, string>) =>
      lab.call({
        method: 'POST',
        url: `/api/v1/classes/${created.json().id}/roster`,
        as: lab.users.instructor,
        headers: { 'content-type': 'text/csv', ...headers },
        payload: '学号,姓名,班级\n20260901,张三,物联网2409\n,李四,物联网2409\n20260901,王五,物联网2408\n',
      });
    const zh = await upload(ZH);
    expect(zh.statusCode).toBe(400);
    const body = zh.json() as Required<RosterErrorResponse>;
    expect(body.code).toBe('ROSTER_INVALID');
    expect(body.message).toBe(
      '名单有 2 行存在问题（文件按 UTF-8 读取），未导入任何学生；请修改文件后重新上传',
    );
    expect(body.details.rows).toEqual([
      {
        row: 3,
        field: 'studentNumber',
        column: '学号',
        problem: 'STUDENT_NUMBER_MISSING',
        params: {},
        message: { 'zh-CN': '缺少学号', en: '学号 is missing' },
      },
      {
        row: 4,
        field: 'studentNumber',
        column: '学号',
        problem: 'STUDENT_NUMBER_REPEATED',
        params: { studentNumber: '20260901', firstRow: 2 },
        message: {
          'zh-CN': '学号 20260901 重复（第 2 行也有）',
          en: '学号 20260901 appears twice (also on row 2)',
        },
      },
      {
        row: 4,
        field: 'className',
        column: '班级',
        problem: 'WRONG_CLASS',
        params: { given: '物联网2408', className: '物联网2409' },
        message: {
          'zh-CN': '班级“物联网2408”不是本班（“物联网2409”）',
          en: '班级 "物联网2408" is not this class ("物联网2409")',
        },
      },
    ]);
    const en = await upload(EN);
    expect(en.json()).toMatchObject({
      code: 'ROSTER_INVALID',
      message: expect.stringMatching(/^the roster has problems on 2 rows .*nothing was imported/),
      details: { rows: body.details.rows },
    });
  });

  it('a version conflict: Chinese or English, with the current version in details', async () => {
    const created = await lab.call({
      method: 'POST',
      url: '/api/v1/classes',
      as: lab.users.instructor,
      payload: { name: '物联网2410' },
    });
    const change = (headers: Record<string, string>) =>
      lab.call({
        method: 'PATCH',
        url: `/api/v1/classes/${created.json().id}`,
        as: lab.users.instructor,
        headers: { 'if-match': '"7"', ...headers },
        payload: { term: '2026春' },
      });
    const zh = await change(ZH);
    expect(zh.statusCode).toBe(412);
    expect(zh.json()).toEqual({
      statusCode: 412,
      code: 'VERSION_CONFLICT',
      error: 'Precondition Failed',
      message: '该班级已被他人修改（当前为第 1 版），请刷新后重新修改',
      details: { entity: 'class', currentVersion: 1 },
    });
    expect((await change(EN)).json()).toMatchObject({
      message:
        'the class was changed by someone else meanwhile (now version 1): reload it and apply your change again',
      details: { currentVersion: 1 },
    });
  });

  it("a rubric's problems name their criterion, in Chinese, with its index and id in details", async () => {
    const task = (headers: Record<string, string>) =>
      lab.call({
        method: 'POST',
        url: '/api/v1/tasks',
        as: lab.users.instructor,
        headers,
        payload: {
          title: '冷库温度监控',
          requiredSensors: ['temperature'],
          durationMinutes: 60,
          mentorWeight: 0,
          rubric: {
            criteria: [
              {
                id: 'cold_range',
                title: '温度保持在 2–8 °C',
                weight: 100,
                partialCredit: true,
                type: 'range',
                params: { sensor: 'co2', min: 2, max: 8, minPercent: 95 },
              },
            ],
          },
        },
      });
    const zh = await task(ZH);
    expect(zh.statusCode, zh.body).toBe(400);
    expect(zh.json()).toMatchObject({
      code: 'INVALID_RUBRIC',
      message:
        '评分标准有误：评分项“cold_range”（第 1 项）：传感器“co2”不在本任务的必需传感器中（temperature）',
      details: {
        problems: [
          {
            criterion: { index: 1, id: 'cold_range' },
            message: {
              'zh-CN': '评分项“cold_range”（第 1 项）：传感器“co2”不在本任务的必需传感器中（temperature）',
              en: 'criterion "cold_range" (#1): sensor "co2" is not among the task\'s required sensors (temperature)',
            },
          },
        ],
      },
    });
    expect((await task(EN)).json().message).toBe(
      'invalid rubric: criterion "cold_range" (#1): sensor "co2" is not among the task\'s required sensors (temperature)',
    );
  });

  it("fastify's own refusals (broken JSON, a wrong content type, a body too large, no such route) in Chinese", async () => {
    const brokenJson = await lab.call({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { ...ZH, 'content-type': 'application/json' },
      payload: '{"username": ',
    });
    expect(brokenJson.statusCode).toBe(400);
    expect(brokenJson.json()).toMatchObject({
      code: 'FST_ERR_CTP_INVALID_JSON_BODY',
      message: '请求内容不是有效的 JSON',
    });
    const media = await lab.call({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { ...ZH, 'content-type': 'application/xml' },
      payload: '<login/>',
    });
    expect(media.statusCode).toBe(415);
    expect(media.json()).toMatchObject({
      code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
      message: '不支持这种内容类型',
    });
    const large = await lab.call({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { ...ZH, 'content-type': 'application/json' },
      payload: JSON.stringify({ username: 'x'.repeat(2 * 1024 * 1024), password: 'y' }),
    });
    expect(large.statusCode).toBe(413);
    expect(large.json()).toMatchObject({ code: 'FST_ERR_CTP_BODY_TOO_LARGE', message: '上传的内容太大' });
    const missing = await lab.call({ method: 'GET', url: '/api/v1/no-such-thing', headers: ZH });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({
      code: 'ROUTE_NOT_FOUND',
      message: '没有这个接口：GET /api/v1/no-such-thing',
    });
    expect((await lab.call({ method: 'GET', url: '/api/v1/no-such-thing' })).json().message).toBe(
      'no route GET /api/v1/no-such-thing',
    );
    const badUrl = await lab.call({ method: 'GET', url: '/api/v1/classes/%zz', headers: ZH });
    expect(badUrl.statusCode).toBe(400);
    expect(badUrl.json()).toMatchObject({ code: 'FST_ERR_BAD_URL', message: '请求地址无效' });
  });

  it('access refusals in Chinese: sign in first, a role that may not, a class not theirs', async () => {
    const anonymous = await lab.call({ method: 'GET', url: '/api/v1/me', headers: ZH });
    expect(anonymous.json()).toMatchObject({ code: 'AUTH_REQUIRED', message: '请先登录' });
    const role = await lab.call({ method: 'GET', url: '/api/v1/audit', as: lab.users.student, headers: ZH });
    expect(role.statusCode).toBe(403);
    expect(role.json()).toMatchObject({
      code: 'ROLE_NOT_ALLOWED',
      message: '您的角色（学生）无权进行此操作',
    });
    const stale = await lab.call({
      method: 'GET',
      url: '/api/v1/me',
      headers: { ...ZH, authorization: 'Bearer not-a-token' },
    });
    expect(stale.json()).toMatchObject({ code: 'BAD_TOKEN', message: '登录已失效，请重新登录' });
  });
});
