// Progressive enhancement for the card forms; every page works without it (except Stripe's
// card field, which is Stripe's own script). No inline script anywhere: the CSP forbids it.
(function () {
  "use strict";
  var form = document.getElementById("card-form");
  if (!form) return;
  var button = document.getElementById("pay");

  // Space the card number in groups of four as it is typed.
  var number = document.getElementById("number");
  if (number) {
    number.addEventListener("input", function () {
      var digits = number.value.replace(/\D/g, "").slice(0, 19);
      number.value = digits.replace(/(.{4})/g, "$1 ").trim();
    });
  }
  var exp = document.getElementById("exp");
  if (exp) {
    exp.addEventListener("input", function (e) {
      var d = exp.value.replace(/\D/g, "").slice(0, 4);
      if (e.inputType && e.inputType.indexOf("delete") === 0) return;
      exp.value = d.length >= 2 ? d.slice(0, 2) + " / " + d.slice(2) : d;
    });
  }

  function busy() {
    if (!button) return;
    button.disabled = true;
    button.dataset.label = button.textContent;
    button.textContent = "Processing…";
  }
  function idle() {
    if (!button) return;
    button.disabled = false;
    if (button.dataset.label) button.textContent = button.dataset.label;
  }

  var key = form.getAttribute("data-stripe-key");
  if (!key) {
    // One submission per page: a second click would only wait for the same payment.
    form.addEventListener("submit", function (e) {
      if (form.dataset.sent) { e.preventDefault(); return; }
      form.dataset.sent = "1";
      busy();
    });
    return;
  }

  // Stripe: the Payment Element collects the card; we create a PaymentMethod in the browser
  // and the server attaches it, the same path as the sandbox's typed card.
  window.addEventListener("load", function () {
    if (!window.Stripe) return;
    var stripe = window.Stripe(key);
    var elements = stripe.elements({ mode: "setup", currency: form.getAttribute("data-currency") || "usd",
      paymentMethodCreation: "manual" });
    elements.create("payment").mount("#payment-element");
    var errors = document.getElementById("card-errors");
    form.addEventListener("submit", function (e) {
      if (document.getElementById("payment_method").value) return;
      e.preventDefault();
      busy();
      elements.submit().then(function (res) {
        if (res.error) throw res.error;
        return stripe.createPaymentMethod({ elements: elements });
      }).then(function (res) {
        if (res.error) throw res.error;
        document.getElementById("payment_method").value = res.paymentMethod.id;
        form.submit();
      }).catch(function (err) {
        if (errors) errors.textContent = err.message || "Your card could not be used.";
        idle();
      });
    });
  });
})();
