/* The page's language in the browser (callbacks/language.py chose it when the page was served:
   ?lang=, else the token's locale claim, else es, and wrote it to <html lang>).

   - window.aiUsageI18n.t(msg): a message of assets/*.js in the page's language. Messages are
     marked T("…") in those files, extracted by pybabel (babel.cfg) into the same catalogue as
     the Python code, and their translations come with the page (<script id="i18n-messages">).
   - Every Dash request carries the language (header X-Dashboard-Lang): the server builds the
     layout and answers every callback in it.
   - The date picker (dcc.DatePickerRange reads window.dateFns.locale, first match of the
     browser's languages, else the first locale loaded) keeps only the page's language: the
     vendored Spanish date-fns locale for es, date-fns' built-in English for en.
   Loaded after date-fns-locale-es.min.js and before Dash's renderer (assets load in name order). */
(function () {
  var lang = (document.documentElement.getAttribute("lang") || "es").toLowerCase() === "en" ? "en" : "es";
  var messages = {};
  try {
    var tag = document.getElementById("i18n-messages");
    messages = tag ? JSON.parse(tag.textContent || "{}") : {};
  } catch (e) { messages = {}; }
  window.aiUsageI18n = {
    lang: lang,
    /* Intl locale of numbers in the browser (the grid): as layouts/fmt.py writes them. */
    numberLocale: lang === "en" ? "en-US" : "es-ES",
    t: function (msg) { return Object.prototype.hasOwnProperty.call(messages, msg) && messages[msg] ? messages[msg] : msg; }
  };

  var original = window.fetch;
  if (original) {
    window.fetch = function (input, init) {
      var url = typeof input === "string" ? input : (input && input.url) || String(input || "");
      if (url.indexOf("_dash-") !== -1) {
        init = Object.assign({}, init || {});
        var headers = new Headers(init.headers || (input && input.headers) || {});
        headers.set("X-Dashboard-Lang", lang);
        init.headers = headers;
      }
      return original.call(this, input, init);
    };
  }

  var fns = window.dateFns || {};
  var es = fns.locale && fns.locale.es;
  window.dateFns = Object.assign({}, fns, { locale: lang === "es" && es ? { es: es } : {} });
})();
