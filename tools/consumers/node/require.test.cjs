// CommonJS code: `require("realname-widget/validate")` (Node's require of an ES module, Node >= 20.19), no init.
const test = require("node:test");
const assert = require("node:assert/strict");
const { isValidId, maskEmail } = require("realname-widget/validate");

test("require() and call", () => {
  assert.equal(isValidId("11010519491231002X"), true);
  assert.equal(maskEmail("zhang@example.com"), "z***@example.com");
});
