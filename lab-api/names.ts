/**
 * The order people expect for names with numbers in them: 第2组 before 第10组, 2号 before 10号
 * (plain text order puts 第10组 before 第2组). Chinese collation for the rest.
 */
export const naturalOrder = new Intl.Collator('zh-CN', { numeric: true }).compare;
