// Prints what the Convious pricing library posts for one call of each of its
// functions (the doc's examples and the Boxoffice extensions), one request a
// line as JSON {url, headers, keepalive, body}: tests/http/
// test_convious_pricing_library.py posts them to a server's /events, so the
// library and the ingest are held to the same wire shape.
// Usage: node --experimental-vm-modules emit_events.js DIR ACCOUNT_ID [FORM]
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { loadPage } = require('./fake_window.js');

(async () => {
  const [dir, accountId, form = 'classic'] = process.argv.slice(2);
  const sources = {
    classic: fs.readFileSync(path.join(dir, 'analytics.js'), 'utf8'),
    module: fs.readFileSync(path.join(dir, 'analytics.mjs'), 'utf8'),
  };
  const env = await loadPage(sources, form);
  const lib = form === 'classic' ? 'conviousPricing' : '__lib';
  env.run(`
    ${lib}.init(${JSON.stringify(accountId)});
    ${lib}.logPageView('https://shop.example/', 'https://shop.example/tickets');
    ${lib}.logUserEnteredCheckout();
    ${lib}.logUserSelectedDate();
    ${lib}.logUserSelectedDate(new Date(2018, 4, 1), 'guide');
    ${lib}.logUserViewedProducts();
    ${lib}.logUserViewedPrices();
    ${lib}.logUserViewedPrices(new Date(2018, 4, 1), 'guide');
    ${lib}.logUserAddedAnItemToCart();
    ${lib}.logUserAddedAnItemToCart('2018-05-01', 'guide');
    ${lib}.logOrderCreated({
      orderId: '<order_id>',
      items: [
        { productId: '<product_id>', amount: 2, price: 12.99, eventDate: new Date(2018, 4, 1), location: 'Almere' },
        { productId: '<product_id>', amount: 1, price: 11.99, eventDate: new Date(2018, 4, 1), location: 'Almere' },
      ],
    });
    ${lib}.logOrderCreated({ orderId: 17, items: [{ productId: 9, amount: 1, price: 0.1 + 0.2 }] });
    ${lib}.logTransaction('<order_id>', 37.97);
  `);
  env.fire('pagehide');
  for (const r of env.requests)
    console.log(JSON.stringify({ url: r.url, headers: r.init.headers, keepalive: r.init.keepalive, body: r.init.body }));
})().catch((error) => {
  console.error(error && error.stack ? error.stack : error);
  process.exitCode = 1;
});
