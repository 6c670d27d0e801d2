package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The hosted invoice page, its credit note's page and the portal's list of them, in Chromium at
// a phone's width and a desktop's: nothing is wider than the screen, the figures are on it, the
// links lead where they say, and each page is saved as a screenshot (artifacts/screenshots).
func TestBrowserHostedDocuments(t *testing.T) {
	b := newBrowser(t)
	e := newEnv(t, nil)
	invoicePath, creditNotePath := goldenDocuments(t, e)
	ps := e.portal(0)
	for _, page := range []struct{ name, path, heading string }{
		{"invoice", invoicePath, "INV-2026-000001"},
		{"credit-note", creditNotePath, "INV-CN-2026-000001"},
		{"portal-invoices", "/portal/" + ps.Ref, "Billing"},
	} {
		if status := b.open(e.srv.URL + page.path); status != 200 {
			t.Fatalf("%s: %d", page.path, status)
		}
		if h := b.text("h1"); h != page.heading {
			t.Errorf("%s: the heading is %q", page.name, h)
		}
		for _, width := range []int64{375, 1280} {
			b.viewport(width, 800)
			if over := b.eval(`String(document.documentElement.scrollWidth - window.innerWidth)`); over != "0" {
				t.Errorf("%s at %d px: %s px wider than the screen", page.name, width, over)
			}
		}
		b.shots(page.name)
	}
	// At a phone's width the lines read "1 × $49.00" under the description instead of the
	// quantity and unit price columns; the download button spans the card.
	b.open(e.srv.URL + invoicePath)
	b.viewport(375, 800)
	text := b.page()
	for _, want := range []string{"Pro — period 1", "1 × $49.00", "Smith & Daughters Ltd", "IE6388047V", "Total\n$49.00"} {
		if !strings.Contains(text, want) {
			t.Errorf("the invoice at phone width lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Unit price") {
		t.Error("the phone layout still shows the unit price column")
	}
	// The credit note listed on the invoice opens its page, which links back.
	if status := b.submit(chromedp.Click(chromedp.CSS(`[data-credit-note] a`))); status != 200 || b.text("h1") != "INV-CN-2026-000001" {
		t.Fatalf("the credit note link: %d %q", status, b.text("h1"))
	}
	if status := b.submit(chromedp.Click(chromedp.CSS(`[data-invoice]`))); status != 200 || b.text("h1") != "INV-2026-000001" {
		t.Fatalf("the invoice link: %d %q", status, b.text("h1"))
	}
}
