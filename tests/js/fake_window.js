// A fake browser window for the Convious pricing library's node tests: timers
// that run when a test advances the clock, a fetch that records requests,
// document (cookies, referrer, visibility), location, localStorage, events.
// loadPage runs one form of the library ('classic' or 'module', from
// sources.classic / sources.module) in a fresh V8 context with it.
'use strict';
const vm = require('node:vm');
const { webcrypto } = require('node:crypto');

const SCRIPT_URL = 'https://tickets.example/convious-pricing/analytics.';

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

// Timers that run only when a test advances the clock.
class Clock {
  constructor() { this.now = 0; this.timers = new Map(); this.seq = 0; }
  setTimeout(fn, ms) { const id = ++this.seq; this.timers.set(id, { at: this.now + Math.max(0, ms || 0), fn }); return id; }
  clearTimeout(id) { this.timers.delete(id); }
  pending() { return [...this.timers.values()].map((t) => t.at - this.now).sort((a, b) => a - b); }
  async advance(ms) {
    const end = this.now + ms;
    for (;;) {
      await settle();
      let next = null;
      for (const [id, t] of this.timers) if (t.at <= end && (!next || t.at < next[1].at)) next = [id, t];
      if (!next) break;
      this.timers.delete(next[0]);
      this.now = next[1].at;
      next[1].fn();
    }
    this.now = end;
    await settle();
  }
}

// A page: what the library can see of a browser, and what it sent.
async function loadPage(sources, form, options = {}) {
  const clock = new Clock();
  const requests = [];
  const winListeners = {};
  const docListeners = {};
  const cookies = new Map(Object.entries(options.cookies || {}));
  const cookieWrites = [];
  const storage = new Map(Object.entries(options.storage || {}));
  const env = { clock, requests, cookieWrites, storage, cookies, reply: () => 200 };
  const document = {
    currentScript: form === 'classic' && options.currentScript !== null ? { src: SCRIPT_URL + 'js?v=3' } : null,
    referrer: options.referrer === undefined ? 'https://search.example/?q=tickets' : options.referrer,
    visibilityState: 'visible',
    addEventListener: (type, fn) => { (docListeners[type] = docListeners[type] || []).push(fn); },
  };
  Object.defineProperty(document, 'cookie', {
    get() {
      if (options.cookiesRefused) throw new Error('SecurityError');
      return [...cookies].map(([k, v]) => k + '=' + v).join('; ');
    },
    set(text) {
      if (options.cookiesRefused) throw new Error('SecurityError');
      cookieWrites.push(text);
      const [pair] = text.split(';');
      const at = pair.indexOf('=');
      cookies.set(pair.slice(0, at), pair.slice(at + 1));
    },
  });
  const sandbox = {
    document,
    location: { href: 'https://shop.example/tickets?day=1', protocol: options.protocol || 'https:' },
    localStorage: {
      getItem: (k) => { if (options.storageRefused) throw new Error('SecurityError'); return storage.has(k) ? storage.get(k) : null; },
      setItem: (k, v) => { if (options.storageRefused) throw new Error('SecurityError'); storage.set(k, String(v)); },
    },
    addEventListener: (type, fn) => { (winListeners[type] = winListeners[type] || []).push(fn); },
    setTimeout: (fn, ms) => clock.setTimeout(fn, ms),
    clearTimeout: (id) => clock.clearTimeout(id),
    crypto: webcrypto,
    URL,
  };
  if (!options.noFetch) {
    sandbox.fetch = (url, init) => {
      const request = { url, init, events: JSON.parse(init.body) };
      requests.push(request);
      const outcome = env.reply(request);
      if (outcome === 'throw') throw new TypeError('keepalive budget exceeded');
      if (outcome instanceof Error) return Promise.reject(outcome);
      return Promise.resolve({ status: outcome, ok: outcome < 300 });
    };
  }
  sandbox.self = sandbox;
  const context = vm.createContext(sandbox);
  env.context = context;
  env.run = (code) => vm.runInContext(code, context);
  if (options.random !== undefined) env.run('Math.random = function () { return ' + options.random + '; }');
  if (form === 'classic') {
    const before = new Set(Object.keys(sandbox));
    vm.runInContext(sources.classic, context, { filename: SCRIPT_URL + 'js' });
    env.leaked = Object.keys(sandbox).filter((k) => !before.has(k));
    env.api = sandbox.conviousPricing;
  } else {
    const identifier = SCRIPT_URL + 'mjs';
    const mod = new vm.SourceTextModule(sources.module, {
      context, identifier, initializeImportMeta(meta) { meta.url = identifier; },
    });
    await mod.link(() => { throw new Error('the library imports nothing'); });
    await mod.evaluate();
    env.api = mod.namespace;
    env.leaked = [];
    sandbox.__lib = mod.namespace; // for the cases written as code run in the page
  }
  env.fire = (type) => (winListeners[type] || []).forEach((fn) => fn({ type }));
  env.hide = () => { document.visibilityState = 'hidden'; (docListeners.visibilitychange || []).forEach((fn) => fn({})); };
  env.show = () => { document.visibilityState = 'visible'; (docListeners.visibilitychange || []).forEach((fn) => fn({})); };
  env.events = () => requests.flatMap((r) => r.events);
  return env;
}


module.exports = { settle, Clock, loadPage, SCRIPT_URL };
