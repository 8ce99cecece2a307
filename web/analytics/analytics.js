// Convious pricing analytics for the browser (docs/dialects/convious-pricing.md,
// "The browser library"). This file is an ES module; web/analytics/build.sh
// derives from it the classic script that defines the global `conviousPricing`
// and the module the server serves, both without comment lines. No
// dependencies: it runs as shipped, in any browser that has fetch.

const API_VERSION = '1.0.0';
// Events of one interaction (a date picked, then prices shown) go in one request.
const BATCH_DELAY_MS = 1000;
const BATCH_MAX_EVENTS = 50;
// Browsers let keepalive requests carry 64 KiB in flight in all; a batch of
// 20,000 UTF-16 units is at most 60,000 bytes of UTF-8.
const BATCH_MAX_CHARS = 20000;
// A page left open offline must not grow without bound: the oldest go first.
const QUEUE_MAX_EVENTS = 500;
const RETRY_BASE_MS = 1000;
const RETRY_MAX_MS = 60000;
// About a minute of retries in all, then the events are dropped.
const RETRY_MAX_TRIES = 6;
// What POST /events accepts: longer ids would have the whole batch refused,
// so they are refused here, where the page's developer sees it; URLs are cut.
const URL_MAX_CHARS = 2048;
const ID_MAX_CHARS = 128;
const ACCOUNT_MAX_CHARS = 63;
const LOCATION_MAX_CHARS = 200;
const ITEMS_MAX = 100;
const AMOUNT_MAX = 10000;
const COOKIE_NAME = 'conviousPricingCookieId';
const COOKIE_MAX_AGE_SECONDS = 31536000;

// The URL this file was loaded from: events go to `events` beside it. The
// module build puts import.meta.url on the next line instead.
const loadedFrom = (typeof document !== 'undefined' && document.currentScript && document.currentScript.src) || '';

let settings = null; // {accountId, cookieId, eventsUrl} once init ran
let queue = []; // {event, tries}
let timer = null;
let inFlight = 0;
let failures = 0; // consecutive failed requests: the backoff's exponent
let listening = false;
let autoViewedUrl = null;

function noop() {}

function invalid(message) {
  throw new TypeError('conviousPricing: ' + message);
}

function checkUrl(value, name) {
  if (typeof value !== 'string') invalid(name + ' must be a string');
  // never half of a surrogate pair: the server refuses JSON holding one
  return value.length > URL_MAX_CHARS ? value.slice(0, URL_MAX_CHARS).replace(/[\ud800-\udbff]$/, '') : value;
}

// Ids are strings in the doc; shops' numeric order and product ids are sent as their text.
function checkId(value, name, max) {
  const text = typeof value === 'number' && isFinite(value) ? String(value) : value;
  if (typeof text !== 'string' || text === '' || Array.from(text).length > (max || ID_MAX_CHARS))
    invalid(name + ' must be a string of 1 to ' + (max || ID_MAX_CHARS) + ' characters');
  return text;
}

function checkAmount(value, name) {
  if (typeof value !== 'number' || !isFinite(value) || value < 0) invalid(name + ' must be a number, 0 or more');
  return value;
}

// The server reads amounts with at most two decimal places.
function cents(value) {
  return Math.round(value * 100) / 100;
}

function pad(n) {
  return (n < 10 ? '0' : '') + n;
}

// The day the visitor picked is the local calendar day: new Date(2018, 4, 1)
// is 2018-05-01 wherever the browser is, never the UTC day before.
function checkDay(value, name) {
  // not instanceof: a Date made in another frame is a Date too
  if (Object.prototype.toString.call(value) === '[object Date]' && !isNaN(value.getTime()))
    return value.getFullYear() + '-' + pad(value.getMonth() + 1) + '-' + pad(value.getDate());
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
  invalid(name + ' must be a Date or a YYYY-MM-DD string');
}

function present(value) {
  return value !== undefined && value !== null;
}

function stamp(entry) {
  entry.event.payload.accountId = settings.accountId;
  entry.event.payload.cookieId = settings.cookieId;
}

function log(type, fields) {
  const payload = fields || {};
  payload.time = new Date().toISOString();
  const entry = { event: { type: type, payload: payload }, tries: 0 };
  // Before init the account is unknown: init stamps what waited for it.
  if (settings) stamp(entry);
  queue.push(entry);
  if (queue.length > QUEUE_MAX_EVENTS) queue.splice(0, queue.length - QUEUE_MAX_EVENTS);
  schedule(queue.length >= BATCH_MAX_EVENTS ? 0 : BATCH_DELAY_MS);
}

function schedule(delay) {
  if (!settings || !queue.length || inFlight) return;
  if (timer !== null) {
    // a retry's backoff is not cut short by new events
    if (delay > 0 || failures) return;
    clearTimeout(timer);
  }
  timer = setTimeout(tick, delay);
}

function tick() {
  timer = null;
  if (!inFlight) post(take());
}

function take() {
  let chars = 2;
  let n = 0;
  while (n < queue.length && n < BATCH_MAX_EVENTS) {
    const size = JSON.stringify(queue[n].event).length + 1;
    if (n && chars + size > BATCH_MAX_CHARS) break;
    chars += size;
    n++;
  }
  return queue.splice(0, n);
}

// keepalive lets a request outlive the page. One event over its budget goes
// without it rather than never; so do retries, which run while the page
// lives, because Chromium before 81 fails every keepalive request that needs
// a CORS preflight (and Accept-Version needs one). The last flush keeps it.
function post(batch, leaving) {
  if (!batch.length) return;
  inFlight++;
  let request;
  try {
    const body = JSON.stringify(batch.map(function (entry) { return entry.event; }));
    const fresh = batch.every(function (entry) { return !entry.tries; });
    request = fetch(settings.eventsUrl, {
      method: 'POST',
      keepalive: body.length <= BATCH_MAX_CHARS && (fresh || leaving === true),
      credentials: 'omit',
      headers: { 'Content-Type': 'application/json', 'Accept-Version': API_VERSION },
      body: body
    });
  } catch (error) {
    request = Promise.reject(error);
  }
  Promise.resolve(request).then(function (response) {
    const status = response ? response.status : 0;
    // Any other 4xx refuses the batch itself: sending it again cannot help.
    if (status === 408 || status === 429 || status >= 500 || status === 0) failed(batch);
    else succeeded();
  }, function () {
    failed(batch);
  }).catch(noop);
}

function succeeded() {
  inFlight--;
  failures = 0;
  schedule(queue.length >= BATCH_MAX_EVENTS ? 0 : BATCH_DELAY_MS);
}

function failed(batch) {
  inFlight--;
  failures++;
  const again = batch.filter(function (entry) { return ++entry.tries < RETRY_MAX_TRIES; });
  queue = again.concat(queue);
  if (queue.length > QUEUE_MAX_EVENTS) queue.splice(0, queue.length - QUEUE_MAX_EVENTS);
  if (timer !== null) clearTimeout(timer);
  timer = null;
  if (!queue.length || inFlight) return;
  const ceiling = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * Math.pow(2, failures - 1));
  // jitter, so that the pages of one outage do not all come back at once
  timer = setTimeout(tick, ceiling / 2 + Math.random() * ceiling / 2);
}

// Sends everything now: the page is being hidden or left and may never run again.
function flush() {
  try {
    if (!settings) return;
    if (timer !== null) clearTimeout(timer);
    timer = null;
    while (queue.length) post(take(), true);
  } catch (error) {
    // a page's unload must never fail because of analytics
  }
}

function readStored() {
  try {
    const match = document.cookie.match(new RegExp('(?:^|;\\s*)' + COOKIE_NAME + '=([^;]+)'));
    if (match) return decodeURIComponent(match[1]);
  } catch (error) {
    // no document, or cookies refused (a sandboxed frame)
  }
  try {
    return localStorage.getItem(COOKIE_NAME);
  } catch (error) {
    return null;
  }
}

function newCookieId() {
  const c = typeof crypto !== 'undefined' ? crypto : null;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  const bytes = new Uint8Array(16);
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  let hex = '';
  for (let i = 0; i < 16; i++) hex += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
  return hex;
}

// The visitor's id, kept first-party (a cookie the shop's server can read
// for its /api/price/rtp calls, and localStorage should the cookie go).
function libraryCookieId() {
  const id = readStored() || newCookieId();
  try {
    const secure = typeof location !== 'undefined' && location.protocol === 'https:' ? '; Secure' : '';
    document.cookie = COOKIE_NAME + '=' + encodeURIComponent(id) + '; path=/; max-age=' + COOKIE_MAX_AGE_SECONDS +
      '; SameSite=Lax' + secure;
  } catch (error) {
    // cookies refused: localStorage alone
  }
  try {
    localStorage.setItem(COOKIE_NAME, id);
  } catch (error) {
    // storage refused: the id lives as long as the page
  }
  return id;
}

function eventsUrlFrom(base) {
  try {
    return new URL('events', base).href;
  } catch (error) {
    return null;
  }
}

function listen() {
  if (listening) return;
  listening = true;
  try {
    addEventListener('pagehide', flush);
    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState === 'hidden') flush();
    });
  } catch (error) {
    // not a browser window: events still go out on their timer
  }
}

function init(accountId, cookieId, options) {
  const account = checkId(accountId, 'accountId', ACCOUNT_MAX_CHARS);
  const visitor = present(cookieId) ? checkId(cookieId, 'cookieId') : null;
  const opts = present(options) ? options : {};
  if (typeof opts !== 'object') invalid('options must be an object');
  if (present(opts.eventsUrl) && typeof opts.eventsUrl !== 'string') invalid('options.eventsUrl must be a string');
  let eventsUrl = present(opts.eventsUrl) ? opts.eventsUrl : eventsUrlFrom(loadedFrom);
  // bundled into the shop's own code: Boxoffice answers on the shop's origin
  if (!eventsUrl) eventsUrl = '/convious-pricing/events';
  settings = { accountId: account, cookieId: visitor || libraryCookieId(), eventsUrl: eventsUrl };
  queue.forEach(function (entry) { if (!present(entry.event.payload.accountId)) stamp(entry); });
  listen();
  // A conventional page logs its own view; a single-page application says
  // pageView: false and calls logPageView on each route change.
  try {
    if (opts.pageView !== false && typeof location !== 'undefined' && autoViewedUrl !== location.href) {
      autoViewedUrl = location.href;
      logPageView(typeof document !== 'undefined' ? document.referrer || '' : '', location.href);
    }
  } catch (error) {
    // no location to read: nothing to log
  }
  schedule(BATCH_DELAY_MS);
}

function getCookieId() {
  return settings ? settings.cookieId : null;
}

function logPageView(refererUrl, currentUrl) {
  log('PageViewed', { refererUrl: checkUrl(refererUrl, 'refererUrl'), currentUrl: checkUrl(currentUrl, 'currentUrl') });
}

function logUserEnteredCheckout() {
  log('UserEnteredCheckout');
}

// Boxoffice extension: which day and product the visitor chose or looked at.
function dayAndProduct(eventDate, productId) {
  const fields = {};
  if (present(eventDate)) fields.eventDate = checkDay(eventDate, 'eventDate');
  if (present(productId)) fields.productId = checkId(productId, 'productId');
  return fields;
}

function logUserSelectedDate(eventDate, productId) {
  log('UserSelectedDate', dayAndProduct(eventDate, productId));
}

function logUserViewedProducts() {
  log('UserViewedProducts');
}

function logUserViewedPrices(eventDate, productId) {
  log('UserViewedPrices', dayAndProduct(eventDate, productId));
}

function logUserAddedAnItemToCart(eventDate, productId) {
  log('UserAddedItemToCart', dayAndProduct(eventDate, productId));
}

function logOrderCreated(order) {
  if (!order || typeof order !== 'object') invalid('the order must be an object');
  const orderId = checkId(order.orderId, 'orderId');
  if (!Array.isArray(order.items) || !order.items.length || order.items.length > ITEMS_MAX)
    invalid('items must be an array of 1 to ' + ITEMS_MAX + ' items');
  const items = order.items.map(function (item, i) {
    const at = 'items[' + i + '].';
    if (!item || typeof item !== 'object') invalid(at.slice(0, -1) + ' must be an object');
    if (!Number.isInteger(item.amount) || item.amount < 1 || item.amount > AMOUNT_MAX)
      invalid(at + 'amount must be a whole number from 1 to ' + AMOUNT_MAX);
    const line = {
      productId: checkId(item.productId, at + 'productId'),
      amount: item.amount,
      price: cents(checkAmount(item.price, at + 'price'))
    };
    if (present(item.eventDate)) line.eventDate = checkDay(item.eventDate, at + 'eventDate');
    if (present(item.location)) line.location = checkId(item.location, at + 'location', LOCATION_MAX_CHARS);
    return line;
  });
  log('OrderCreated', { orderId: orderId, items: items });
}

function logTransaction(orderId, totalAmount) {
  log('Transaction', {
    orderId: checkId(orderId, 'orderId'),
    totalAmount: cents(checkAmount(totalAmount, 'totalAmount'))
  });
}

export {
  init, logPageView, logUserEnteredCheckout, logUserSelectedDate, logUserViewedProducts, logUserViewedPrices,
  logUserAddedAnItemToCart, logOrderCreated, logTransaction, flush, getCookieId
};
