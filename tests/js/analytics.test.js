// Unit tests of the Convious pricing browser library (web/analytics/), both
// forms as the server serves them: the classic script and the ES module, each
// run in a fresh V8 context with a fake window (fetch, timers, document,
// cookies, localStorage). Usage: node --experimental-vm-modules
// analytics.test.js DIR, DIR holding analytics.js and analytics.mjs (made by
// web/analytics/build.sh); tests/js/run.sh runs it under several time zones.
// Prints "ok - name" / "not ok - name" and a last line "N passed, N failed".
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const DIR = process.argv[2] || path.join(__dirname, '../../build/gen');
const SOURCES = {
  classic: fs.readFileSync(path.join(DIR, 'analytics.js'), 'utf8'),
  module: fs.readFileSync(path.join(DIR, 'analytics.mjs'), 'utf8'),
};
const EVENTS_URL = 'https://tickets.example/convious-pricing/events';
const FUNCTIONS = ['init', 'logPageView', 'logUserEnteredCheckout', 'logUserSelectedDate', 'logUserViewedProducts',
  'logUserViewedPrices', 'logUserAddedAnItemToCart', 'logOrderCreated', 'logTransaction', 'flush', 'getCookieId'];

let unhandled = 0;
process.on('unhandledRejection', () => { unhandled++; });
const { settle, loadPage, SCRIPT_URL } = require('./fake_window.js');
const page = (form, options) => loadPage(SOURCES, form, options);

// An initialised page whose automatic page view is out of the way.
async function ready(form, options = {}) {
  const env = await page(form, options);
  env.api.init('acct-1', 'cookie-1', { pageView: false });
  return env;
}

const cases = [];
function test(name, fn) {
  for (const form of ['classic', 'module']) cases.push({ name: form + ': ' + name, fn: () => fn(form) });
}
function once(name, fn) { cases.push({ name, fn }); }

function throwsTypeError(fn, pattern) {
  assert.throws(fn, (error) => {
    assert.equal(error.name, 'TypeError');
    assert.equal(error.constructor.name, 'TypeError');
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

// ---- the surface ----

test('exports the doc\'s functions and nothing else', async (form) => {
  const env = await page(form);
  assert.deepEqual(Object.keys(env.api).sort(), [...FUNCTIONS].sort());
  for (const name of FUNCTIONS) assert.equal(typeof env.api[name], 'function', name);
  if (form === 'classic') assert.deepEqual(env.leaked, ['conviousPricing']);
});

once('classic: a second copy of the script keeps the first', async () => {
  const env = await ready('classic');
  const first = env.api;
  env.run(SOURCES.classic);
  assert.equal(env.context.conviousPricing, first);
});

// ---- init ----

test('init requires an accountId', async (form) => {
  const env = await page(form);
  throwsTypeError(() => env.api.init(), /accountId/);
  throwsTypeError(() => env.api.init(''), /accountId/);
  throwsTypeError(() => env.api.init({}), /accountId/);
  throwsTypeError(() => env.api.init(null, 'c'), /accountId/);
  throwsTypeError(() => env.api.init('a', {}), /cookieId/);
  throwsTypeError(() => env.api.init('a', ''), /cookieId/);
  throwsTypeError(() => env.api.init('a'.repeat(64), 'c'), /accountId/);
  throwsTypeError(() => env.api.init('a', 'c'.repeat(129)), /cookieId/);
  throwsTypeError(() => env.api.init('a', 'c', 'spa'), /options/);
  throwsTypeError(() => env.api.init('a', 'c', { eventsUrl: 5 }), /eventsUrl/);
  assert.equal(env.api.getCookieId(), null);
  await env.clock.advance(5000);
  assert.equal(env.requests.length, 0);
});

test('init logs the page view of a conventional page, once', async (form) => {
  const env = await page(form);
  env.api.init('acct-1', 'cookie-1');
  env.api.init('acct-1', 'cookie-1');
  await env.clock.advance(999);
  assert.equal(env.requests.length, 0);
  await env.clock.advance(1);
  assert.equal(env.requests.length, 1);
  const [event] = env.events();
  assert.equal(event.type, 'PageViewed');
  assert.deepEqual(Object.keys(event.payload).sort(), ['accountId', 'cookieId', 'currentUrl', 'refererUrl', 'time']);
  assert.equal(event.payload.refererUrl, 'https://search.example/?q=tickets');
  assert.equal(event.payload.currentUrl, 'https://shop.example/tickets?day=1');
  assert.equal(event.payload.accountId, 'acct-1');
  assert.equal(event.payload.cookieId, 'cookie-1');
});

test('a direct visit has an empty refererUrl', async (form) => {
  const env = await page(form, { referrer: '' });
  env.api.init('acct-1', 'cookie-1');
  await env.clock.advance(1000);
  assert.equal(env.events()[0].payload.refererUrl, '');
});

test('pageView: false leaves page views to the application', async (form) => {
  const env = await ready(form);
  await env.clock.advance(10000);
  assert.equal(env.requests.length, 0);
  env.api.logPageView('https://shop.example/a', 'https://shop.example/b');
  await env.clock.advance(1000);
  assert.deepEqual(env.events().map((e) => e.type), ['PageViewed']);
});

test('the request: POST beside the script, JSON array, Accept-Version, keepalive', async (form) => {
  const env = await ready(form);
  env.api.logUserEnteredCheckout();
  await env.clock.advance(1000);
  assert.equal(env.requests.length, 1);
  const { url, init } = env.requests[0];
  assert.equal(url, EVENTS_URL);
  assert.equal(init.method, 'POST');
  assert.equal(init.keepalive, true);
  assert.equal(init.credentials, 'omit');
  assert.deepEqual({ ...init.headers }, { 'Content-Type': 'application/json', 'Accept-Version': '1.0.0' });
  assert.ok(Array.isArray(JSON.parse(init.body)));
  const [event] = env.events();
  assert.deepEqual(Object.keys(event).sort(), ['payload', 'type']);
  assert.match(event.payload.time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  assert.ok(Math.abs(Date.parse(event.payload.time) - Date.now()) < 60000);
});

test('options.eventsUrl sends elsewhere; bundled code falls back to its own origin', async (form) => {
  const env = await page(form);
  env.api.init('acct-1', 'cookie-1', { eventsUrl: 'https://bo.example/convious-pricing/events', pageView: false });
  env.api.logUserViewedProducts();
  await env.clock.advance(1000);
  assert.equal(env.requests[0].url, 'https://bo.example/convious-pricing/events');
  if (form === 'classic') {
    const bundled = await page(form, { currentScript: null });
    bundled.api.init('acct-1', 'cookie-1');
    await bundled.clock.advance(1000);
    assert.equal(bundled.requests[0].url, '/convious-pricing/events');
  }
});

// ---- every function's event ----

const DAY = 'new Date(2018, 4, 1)';
const EVENTS = [
  ['logPageView', "'https://a.example/', 'https://shop.example/x'", 'PageViewed',
    { refererUrl: 'https://a.example/', currentUrl: 'https://shop.example/x' }],
  ['logUserEnteredCheckout', '', 'UserEnteredCheckout', {}],
  ['logUserSelectedDate', '', 'UserSelectedDate', {}],
  ['logUserSelectedDate', DAY + ", 'p-1'", 'UserSelectedDate', { eventDate: '2018-05-01', productId: 'p-1' }],
  ['logUserSelectedDate', "'2018-12-31'", 'UserSelectedDate', { eventDate: '2018-12-31' }],
  ['logUserSelectedDate', 'null, 42', 'UserSelectedDate', { productId: '42' }],
  ['logUserViewedProducts', '', 'UserViewedProducts', {}],
  ['logUserViewedPrices', '', 'UserViewedPrices', {}],
  ['logUserViewedPrices', DAY + ", 'p-2'", 'UserViewedPrices', { eventDate: '2018-05-01', productId: 'p-2' }],
  ['logUserAddedAnItemToCart', '', 'UserAddedItemToCart', {}],
  ['logUserAddedAnItemToCart', DAY + ", 'p-3'", 'UserAddedItemToCart', { eventDate: '2018-05-01', productId: 'p-3' }],
  ['logTransaction', "'" + 'o'.repeat(128) + "', 1", 'Transaction', { orderId: 'o'.repeat(128), totalAmount: 1 }],
  ['logPageView', "'', 'https://shop.example/' + 'x'.repeat(3000)", 'PageViewed',
    { refererUrl: '', currentUrl: ('https://shop.example/' + 'x'.repeat(3000)).slice(0, 2048) }],
  // a cut through a surrogate pair would be JSON the server refuses
  ['logPageView', "'https://a.example/' + 'y'.repeat(2029) + '\\u{1F3AB}tail', 'https://b.example/'", 'PageViewed',
    { refererUrl: 'https://a.example/' + 'y'.repeat(2029), currentUrl: 'https://b.example/' }],
  ['logOrderCreated', `{orderId: 'o-1', items: [
      {productId: 'p-1', amount: 2, price: 12.99, eventDate: ${DAY}, location: 'Almere'},
      {productId: 'p-2', amount: 1, price: 11.99, eventDate: ${DAY}, location: 'Almere'}]}`, 'OrderCreated',
  { orderId: 'o-1', items: [
    { productId: 'p-1', amount: 2, price: 12.99, eventDate: '2018-05-01', location: 'Almere' },
    { productId: 'p-2', amount: 1, price: 11.99, eventDate: '2018-05-01', location: 'Almere' }] }],
  ['logOrderCreated', "{orderId: 17, items: [{productId: 9, amount: 1, price: 0.1 + 0.2}]}", 'OrderCreated',
    { orderId: '17', items: [{ productId: '9', amount: 1, price: 0.3 }] }],
  ['logTransaction', "'o-1', 37.97", 'Transaction', { orderId: 'o-1', totalAmount: 37.97 }],
  ['logTransaction', "'o-2', 0", 'Transaction', { orderId: 'o-2', totalAmount: 0 }],
];

EVENTS.forEach(([fn, args, type, fields], i) => {
  test(`${fn}(${args.replace(/\s+/g, ' ').slice(0, 60)}) sends ${type}`, async (form) => {
    const env = await ready(form);
    env.run(`${form === 'classic' ? 'conviousPricing' : '__lib'}.${fn}(${args})`);
    await env.clock.advance(1000);
    const events = env.events();
    assert.equal(events.length, 1, 'case ' + i);
    assert.equal(events[0].type, type);
    const { accountId, cookieId, time, ...rest } = events[0].payload;
    assert.equal(accountId, 'acct-1');
    assert.equal(cookieId, 'cookie-1');
    assert.equal(typeof time, 'string');
    assert.deepEqual(rest, fields);
  });
});

// ---- TypeErrors: required arguments, wrong types; nothing is queued ----

const INVALID = [
  ['logPageView', '', /refererUrl/],
  ['logPageView', "'https://a.example/'", /currentUrl/],
  ['logPageView', "null, 'https://b.example/'", /refererUrl/],
  ['logPageView', "'https://a.example/', 5", /currentUrl/],
  ['logUserSelectedDate', "'2018-5-1'", /eventDate/],
  ['logUserSelectedDate', "new Date('not a day')", /eventDate/],
  ['logUserSelectedDate', '1525132800000', /eventDate/],
  ['logUserSelectedDate', "'2018-05-01', {}", /productId/],
  ['logUserViewedPrices', "'2018-05-01T00:00:00Z'", /eventDate/],
  ['logUserViewedPrices', "null, ''", /productId/],
  ['logOrderCreated', '', /order/],
  ['logOrderCreated', "'o-1'", /order/],
  ['logOrderCreated', "{items: [{productId: 'p', amount: 1, price: 1}]}", /orderId/],
  ['logOrderCreated', "{orderId: '', items: [{productId: 'p', amount: 1, price: 1}]}", /orderId/],
  ['logOrderCreated', "{orderId: 'o'}", /items/],
  ['logOrderCreated', "{orderId: 'o', items: []}", /items/],
  ['logOrderCreated', "{orderId: 'o', items: 'p'}", /items/],
  ['logOrderCreated', "{orderId: 'o', items: [null]}", /items\[0\]/],
  ['logOrderCreated', "{orderId: 'o', items: [{amount: 1, price: 1}]}", /items\[0\]\.productId/],
  ['logOrderCreated', "{orderId: 'o', items: [{productId: 'p', price: 1}]}", /items\[0\]\.amount/],
  ['logOrderCreated', "{orderId: 'o', items: [{productId: 'p', amount: 0, price: 1}]}", /items\[0\]\.amount/],
  ['logOrderCreated', "{orderId: 'o', items: [{productId: 'p', amount: 1}]}", /items\[0\]\.price/],
  ['logOrderCreated', "{orderId: 'o', items: [{productId: 'p', amount: 1, price: '12.99'}]}", /items\[0\]\.price/],
  ['logOrderCreated', "{orderId: 'o', items: [{productId: 'p', amount: 1, price: -1}]}", /items\[0\]\.price/],
  ['logOrderCreated', "{orderId: 'o', items: [{productId: 'p', amount: 1, price: NaN}]}", /items\[0\]\.price/],
  ['logOrderCreated', "{orderId: 'o', items: [{productId: 'p', amount: 1, price: 1}, {productId: 'q', amount: 1, price: 1, eventDate: '1/5/2018'}]}", /items\[1\]\.eventDate/],
  ['logOrderCreated', "{orderId: 'o', items: [{productId: 'p', amount: 1, price: 1, location: {}}]}", /items\[0\]\.location/],
  ['logOrderCreated', "{orderId: 'o', items: [{productId: 'p', amount: 1.5, price: 1}]}", /items\[0\]\.amount/],
  ['logOrderCreated', "{orderId: 'o', items: [{productId: 'p', amount: 10001, price: 1}]}", /items\[0\]\.amount/],
  ['logOrderCreated', "{orderId: 'o', items: Array.from({length: 101}, () => ({productId: 'p', amount: 1, price: 1}))}", /items/],
  ['logOrderCreated', "{orderId: 'o'.repeat(129), items: [{productId: 'p', amount: 1, price: 1}]}", /orderId/],
  ['logOrderCreated', "{orderId: 'o', items: [{productId: 'p'.repeat(129), amount: 1, price: 1}]}", /productId/],
  ['logOrderCreated', "{orderId: 'o', items: [{productId: 'p', amount: 1, price: 1, location: 'l'.repeat(201)}]}", /location/],
  ['logUserAddedAnItemToCart', "'tomorrow'", /eventDate/],
  ['logTransaction', '', /orderId/],
  ['logTransaction', "'o-1'", /totalAmount/],
  ['logTransaction', "'o-1', '37.97'", /totalAmount/],
  ['logTransaction', "'o-1', Infinity", /totalAmount/],
  ['logTransaction', "undefined, 10", /orderId/],
];

INVALID.forEach(([fn, args, pattern]) => {
  test(`${fn}(${args.slice(0, 60)}) throws a TypeError`, async (form) => {
    const env = await ready(form);
    const call = `${form === 'classic' ? 'conviousPricing' : '__lib'}.${fn}(${args})`;
    throwsTypeError(() => env.run(call), pattern);
    await env.clock.advance(5000);
    env.fire('pagehide');
    await settle();
    assert.equal(env.requests.length, 0);
  });
});

// ---- local days ----

test('eventDate is the local day in every time zone (TZ=' + (process.env.TZ || 'unset') + ')', async (form) => {
  const env = await ready(form);
  const lib = form === 'classic' ? 'conviousPricing' : '__lib';
  env.run(`${lib}.logUserSelectedDate(new Date(2018, 4, 1))`);
  env.run(`${lib}.logUserSelectedDate(new Date(2018, 4, 1, 23, 59, 59))`);
  env.run(`${lib}.logUserSelectedDate(new Date(2018, 0, 1, 0, 0, 0))`);
  env.run(`${lib}.logUserSelectedDate(new Date(2018, 2, 25, 2, 30))`); // a DST change in Europe
  // a Date from another frame (the test's own realm) is a Date too
  env.api.logUserViewedPrices(new Date(2018, 11, 31, 23, 0));
  env.api.logOrderCreated({ orderId: 'o', items: [{ productId: 'p', amount: 1, price: 1, eventDate: new Date(2018, 4, 1) }] });
  await env.clock.advance(1000);
  const days = env.events().map((e) => e.payload.eventDate || e.payload.items[0].eventDate);
  assert.deepEqual(days, ['2018-05-01', '2018-05-01', '2018-01-01', '2018-03-25', '2018-12-31', '2018-05-01']);
});

// ---- batching ----

test('events within the delay go in one request, in order', async (form) => {
  const env = await ready(form);
  env.api.logUserEnteredCheckout();
  await env.clock.advance(400);
  env.api.logUserViewedProducts();
  env.api.logUserViewedPrices();
  await env.clock.advance(599);
  assert.equal(env.requests.length, 0);
  await env.clock.advance(1);
  assert.equal(env.requests.length, 1);
  assert.deepEqual(env.events().map((e) => e.type), ['UserEnteredCheckout', 'UserViewedProducts', 'UserViewedPrices']);
  await env.clock.advance(10000);
  assert.equal(env.requests.length, 1);
});

test('50 events go at once; more go in batches of at most 50', async (form) => {
  const env = await ready(form);
  for (let i = 0; i < 50; i++) env.api.logTransaction('o-' + i, i);
  await env.clock.advance(0);
  assert.equal(env.requests.length, 1);
  assert.equal(env.requests[0].events.length, 50);
  for (let i = 50; i < 170; i++) env.api.logTransaction('o-' + i, i);
  await env.clock.advance(5000);
  assert.deepEqual(env.requests.map((r) => r.events.length), [50, 50, 50, 20]);
  assert.deepEqual(env.events().map((e) => e.payload.orderId), Array.from({ length: 170 }, (_, i) => 'o-' + i));
});

test('a batch stays within the keepalive budget; one event over it goes without keepalive', async (form) => {
  const env = await ready(form);
  const items = Array.from({ length: 40 }, (_, i) => ({ productId: 'product-'.padEnd(120, 'x') + i, amount: 1, price: 1 }));
  for (let i = 0; i < 6; i++) env.api.logOrderCreated({ orderId: 'o-' + i, items });
  // the most one event can hold: 100 items with the longest ids and locations
  const huge = Array.from({ length: 100 }, (_, i) => ({ productId: 'p'.repeat(125) + i, amount: 1, price: 1,
    location: 'l'.repeat(200) }));
  env.api.logOrderCreated({ orderId: 'huge', items: huge });
  env.fire('pagehide');
  await settle();
  assert.ok(env.requests.length >= 3, env.requests.length);
  for (const r of env.requests) {
    if (r.events.length === 1 && r.events[0].payload.orderId === 'huge') assert.equal(r.init.keepalive, false);
    else {
      assert.ok(r.init.body.length <= 20000, r.init.body.length);
      assert.equal(r.init.keepalive, true);
    }
  }
  assert.deepEqual(env.events().map((e) => e.payload.orderId), ['o-0', 'o-1', 'o-2', 'o-3', 'o-4', 'o-5', 'huge']);
});

test('pagehide sends at once; so does the page being hidden', async (form) => {
  const env = await ready(form);
  env.api.logUserEnteredCheckout();
  env.fire('pagehide');
  await settle();
  assert.equal(env.requests.length, 1);
  env.api.logUserViewedProducts();
  env.show();
  await settle();
  assert.equal(env.requests.length, 1);
  env.hide();
  await settle();
  assert.equal(env.requests.length, 2);
  assert.equal(env.requests[1].init.keepalive, true);
  await env.clock.advance(5000);
  assert.equal(env.requests.length, 2);
});

test('events logged before init wait for it and carry its account', async (form) => {
  const env = await page(form);
  env.api.logUserViewedProducts();
  env.fire('pagehide');
  await env.clock.advance(5000);
  assert.equal(env.requests.length, 0);
  env.api.init('acct-9', 'cookie-9');
  await env.clock.advance(1000);
  const events = env.events();
  assert.deepEqual(events.map((e) => e.type), ['UserViewedProducts', 'PageViewed']);
  for (const e of events) assert.deepEqual([e.payload.accountId, e.payload.cookieId], ['acct-9', 'cookie-9']);
});

// ---- failures: retried with backoff, never thrown into the page ----

test('a network failure is retried with backoff until it goes through', async (form) => {
  const env = await ready(form, { random: 0 });
  let fail = 3;
  env.reply = () => (fail-- > 0 ? new TypeError('Failed to fetch') : 200);
  env.api.logTransaction('o-1', 10);
  await env.clock.advance(1000);
  assert.equal(env.requests.length, 1);
  // jitter at 0: half of 1 s, 2 s, 4 s
  assert.deepEqual(env.clock.pending(), [500]);
  await env.clock.advance(500);
  assert.equal(env.requests.length, 2);
  assert.deepEqual(env.clock.pending(), [1000]);
  // a retry goes without keepalive (old Chromium refuses preflighted keepalive requests)
  assert.deepEqual(env.requests.map((r) => r.init.keepalive), [true, false]);
  env.api.logUserViewedPrices(); // new events do not cut the backoff short
  for (let i = 0; i < 60; i++) env.api.logUserViewedProducts();
  await env.clock.advance(999);
  assert.equal(env.requests.length, 2);
  await env.clock.advance(1);
  assert.equal(env.requests.length, 3);
  await env.clock.advance(2000);
  assert.equal(env.requests.length, 4);
  assert.equal(env.requests[3].events[0].payload.orderId, 'o-1');
  await env.clock.advance(10000);
  const sent = env.requests.slice(3).flatMap((r) => r.events);
  assert.equal(sent.length, 62);
  assert.equal(env.clock.pending().length, 0);
});

test('leaving the page sends retries with keepalive', async (form) => {
  const env = await ready(form, { random: 0 });
  let fail = 1;
  env.reply = () => (fail-- > 0 ? new TypeError('Failed to fetch') : 200);
  env.api.logUserEnteredCheckout();
  await env.clock.advance(1000);
  env.api.logUserViewedProducts();
  env.fire('pagehide');
  await settle();
  assert.deepEqual(env.requests.map((r) => [r.init.keepalive, r.events.length]), [[true, 1], [true, 2]]);
  await env.clock.advance(120000);
  assert.equal(env.requests.length, 2);
});

test('5xx, 408 and 429 are retried; another 4xx is dropped', async (form) => {
  for (const status of [500, 503, 408, 429]) {
    const env = await ready(form, { random: 0.999 });
    let first = true;
    env.reply = () => (first ? ((first = false), status) : 200);
    env.api.logUserEnteredCheckout();
    await env.clock.advance(1000 + 1000);
    assert.equal(env.requests.length, 2, 'status ' + status);
    assert.deepEqual(env.requests[0].events, env.requests[1].events);
  }
  for (const status of [400, 401, 413]) {
    const env = await ready(form);
    env.reply = () => status;
    env.api.logUserEnteredCheckout();
    await env.clock.advance(120000);
    assert.equal(env.requests.length, 1, 'status ' + status);
  }
});

test('a batch is dropped after six tries; the backoff is capped', async (form) => {
  const env = await ready(form, { random: 0.999999 });
  env.reply = () => new TypeError('offline');
  env.api.logUserEnteredCheckout();
  await env.clock.advance(1000);
  for (let i = 1; i < 6; i++) await env.clock.advance(Math.min(60000, 1000 * 2 ** (i - 1)));
  assert.equal(env.requests.length, 6);
  await env.clock.advance(600000);
  assert.equal(env.requests.length, 6);
  env.reply = () => 200;
  env.api.logUserViewedProducts();
  await env.clock.advance(1000);
  assert.deepEqual(env.requests[6].events.map((e) => e.type), ['UserViewedProducts']);
});

test('fetch throwing, rejecting or missing never reaches the page', async (form) => {
  const env = await ready(form, { random: 0 });
  env.reply = () => 'throw';
  env.api.logUserEnteredCheckout();
  env.fire('pagehide');
  await env.clock.advance(1000);
  assert.equal(env.requests.length, 2);
  const none = await page(form, { noFetch: true });
  none.api.init('acct-1', 'cookie-1');
  none.api.logUserEnteredCheckout();
  none.fire('pagehide');
  none.hide();
  await none.clock.advance(300000);
  assert.equal(unhandled, 0);
});

test('offline, the queue keeps the newest 500 events', async (form) => {
  const env = await ready(form, { random: 0 });
  let online = false;
  env.reply = () => (online ? 200 : new TypeError('offline'));
  for (let i = 0; i < 700; i++) env.api.logTransaction('o-' + i, 1);
  await env.clock.advance(0);
  online = true;
  await env.clock.advance(10000);
  const ids = env.requests.slice(1).flatMap((r) => r.events).map((e) => e.payload.orderId);
  assert.equal(ids.length, 500);
  assert.equal(ids[ids.length - 1], 'o-699');
  assert.equal(new Set(ids).size, 500);
});

// ---- the visitor's cookie id ----

test('without a cookieId the library makes one and keeps it first-party', async (form) => {
  const env = await page(form);
  env.api.init('acct-1');
  const id = env.api.getCookieId();
  assert.match(id, /^[0-9a-f-]{32,36}$/);
  assert.equal(env.cookies.get('conviousPricingCookieId'), id);
  assert.equal(env.storage.get('conviousPricingCookieId'), id);
  assert.match(env.cookieWrites[0], /; path=\/; max-age=31536000; SameSite=Lax; Secure$/);
  await env.clock.advance(1000);
  assert.equal(env.events()[0].payload.cookieId, id);
  const http = await page(form, { protocol: 'http:' });
  http.api.init('acct-1');
  assert.doesNotMatch(http.cookieWrites[0], /Secure/);
});

test('the visitor keeps their id: from the cookie, else from localStorage', async (form) => {
  const fromCookie = await page(form, { cookies: { other: 'x', conviousPricingCookieId: 'v-cookie' }, storage: { conviousPricingCookieId: 'v-old' } });
  fromCookie.api.init('acct-1');
  assert.equal(fromCookie.api.getCookieId(), 'v-cookie');
  assert.equal(fromCookie.storage.get('conviousPricingCookieId'), 'v-cookie');
  const fromStorage = await page(form, { storage: { conviousPricingCookieId: 'v-stored' } });
  fromStorage.api.init('acct-1', null);
  assert.equal(fromStorage.api.getCookieId(), 'v-stored');
  assert.equal(fromStorage.cookies.get('conviousPricingCookieId'), 'v-stored');
});

test('a cookieId given to init is used as it is and stored nowhere', async (form) => {
  const env = await page(form);
  env.api.init('acct-1', 'shop-session-7');
  assert.equal(env.api.getCookieId(), 'shop-session-7');
  assert.equal(env.cookieWrites.length, 0);
  assert.equal(env.storage.size, 0);
});

test('refused cookies and storage still give an id for the page', async (form) => {
  const env = await page(form, { cookiesRefused: true, storageRefused: true });
  env.api.init('acct-1');
  assert.match(env.api.getCookieId(), /^[0-9a-f-]{32,36}$/);
  await env.clock.advance(1000);
  assert.equal(env.requests.length, 1);
});

// ---- the size budget ----

for (const [form, source] of Object.entries(SOURCES)) {
  once(`${form}: under 5 kB gzipped`, () => {
    const size = zlib.gzipSync(Buffer.from(source), { level: 9 }).length;
    assert.ok(size < 5000, form + ' is ' + size + ' bytes gzipped');
  });
}

once('the module form is the classic form but for its wrapper and import.meta.url', () => {
  assert.match(SOURCES.module, /^const loadedFrom = import\.meta\.url;$/m);
  assert.match(SOURCES.module, /^export \{$/m);
  assert.doesNotMatch(SOURCES.classic, /import\.meta|^export /m);
  assert.doesNotMatch(SOURCES.classic + SOURCES.module, /^\s*\/\//m);
});

(async () => {
  let passed = 0;
  let failed = 0;
  for (const c of cases) {
    try {
      await c.fn();
      passed++;
      console.log('ok - ' + c.name);
    } catch (error) {
      failed++;
      console.log('not ok - ' + c.name);
      console.log(String(error && error.stack ? error.stack : error).split('\n').slice(0, 8).map((l) => '  # ' + l).join('\n'));
    }
  }
  if (unhandled) {
    failed++;
    console.log('not ok - ' + unhandled + ' unhandled promise rejections');
  }
  console.log(passed + ' passed, ' + failed + ' failed');
  process.exitCode = failed ? 1 : 0;
})();
