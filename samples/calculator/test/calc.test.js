'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { add, multiply } = require('../src/calc');

test('add returns the sum of two numbers', () => {
  assert.equal(add(2, 3), 5);
});

test('add handles negative numbers', () => {
  assert.equal(add(-2, -3), -5);
});

test('multiply returns the product', () => {
  assert.equal(multiply(4, 5), 20);
});
