// A site's Node code using the package as npm installs it (`cargo xtask test` packs www/pkg with `npm pack` and
// installs the tarball into an empty project): one import, no init, as with npm id-validator.
import test from "node:test";
import assert from "node:assert/strict";
import { isValidId, validateId, validatePhone, validateEmail, validateName, maskId, maskPhone } from "realname-widget/validate";

test("the first call works without init()", () => {
  assert.equal(isValidId("11010519491231002X"), true);
  assert.equal(isValidId("110105194912310021"), false);
  assert.equal(isValidId(42), false);
});

test("validateId gives the rich result", () => {
  const r = validateId("11010519491231002x", { today: "2026-01-01" });
  assert.equal(r.valid, true);
  assert.equal(r.kind, "resident_id");
  assert.equal(r.normalized, "11010519491231002X");
  assert.equal(r.birth_date, "1949-12-31");
  assert.equal(r.sex, "female");
  assert.equal(r.age, 76);
  assert.deepEqual(r.region, { code: "110105", status: "current" });
  const bad = validateId("110105194912310021");
  assert.equal(bad.valid, false);
  assert.deepEqual(bad.errors, [{ code: "invalid_check_char", position: 17, expected: "X" }]);
  assert.throws(() => validateId("x", { kind: "nope" }), /unknown kind/);
});

test("the other checks and masks", () => {
  assert.equal(validatePhone("+86 138 0013 8000").normalized, "13800138000");
  assert.equal(validateEmail("zhang@example.com").valid, true);
  assert.equal(validateName("张三").script, "cjk");
  assert.equal(maskId("11010519491231002X"), "110105********002X");
  assert.equal(maskPhone("13800138000"), "138****8000");
});
