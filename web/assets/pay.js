// /pay/<token> and a checkout's authentication step at Stripe: Stripe.js completes the
// PaymentIntent (or SetupIntent) that asked for authentication, opening the bank's 3-D Secure
// step, then the form tells the server, which refetches it. No inline script: the CSP
// forbids it.
(function () {
  "use strict";
  var form = document.getElementById("pay-form");
  if (!form) return;
  window.addEventListener("load", function () {
    if (!window.Stripe) return;
    var stripe = window.Stripe(form.getAttribute("data-stripe-key"));
    var errors = document.getElementById("pay-errors");
    var button = document.getElementById("confirm");
    form.addEventListener("submit", function (e) {
      if (form.dataset.confirmed) return;
      e.preventDefault();
      button.disabled = true;
      var secret = form.getAttribute("data-client-secret");
      // at checkout the PaymentIntent (or SetupIntent) was confirmed by the server and waits for
      // the bank's step; a renewal's PaymentIntent is confirmed again, on session
      var step = form.getAttribute("data-next-action") ?
        stripe.handleNextAction({ clientSecret: secret }) :
        stripe.confirmCardPayment(secret, { payment_method: form.getAttribute("data-payment-method") });
      step.then(function (result) {
        if (result.error) {
          errors.textContent = result.error.message;
          errors.hidden = false;
          button.disabled = false;
          return;
        }
        form.dataset.confirmed = "1";
        form.submit();
      });
    });
  });
})();
