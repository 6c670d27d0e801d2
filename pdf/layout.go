package pdf

import (
	"fmt"
	"strings"

	"github.com/go-pdf/fpdf"

	"github.com/tollgate-billing/tollgate/domain"
)

// page draws one document top to bottom.
type page struct {
	f  *fpdf.Fpdf
	tr func(string) string
}

const lineH = 5

func (p page) width() float64 {
	w, _ := p.f.GetPageSize()
	l, _, r, _ := p.f.GetMargins()
	return w - l - r
}

func (p page) font(style string, size float64) { p.f.SetFont("Helvetica", style, size) }

func (p page) text(w float64, s, align string) {
	p.f.CellFormat(w, lineH, p.tr(s), "", 0, align, false, 0, "")
}

func (p page) header(d document, logo *Logo) {
	f := p.f
	left, top, _, _ := f.GetMargins()
	drewLogo := false
	if logo != nil && len(logo.Bytes) > 0 {
		typ := strings.ToUpper(logo.Type)
		if typ == "JPEG" {
			typ = "JPG"
		}
		opt := fpdf.ImageOptions{ImageType: typ}
		f.RegisterImageOptionsReader("logo", opt, strings.NewReader(string(logo.Bytes)))
		if f.Ok() {
			f.ImageOptions("logo", left, top, 0, 16, false, opt, 0, "")
			drewLogo = f.Ok()
		} else {
			f.ClearError() // a logo that is not an image leaves the name in its place
		}
	}
	if !drewLogo {
		p.font("B", 16)
		f.SetXY(left, top)
		p.text(p.width()/2, d.seller.Name, "L")
	}
	f.SetXY(left+p.width()/2, top)
	p.font("B", 20)
	p.text(p.width()/2, d.title, "R")
	f.Ln(9)
	p.font("", 10)
	f.SetX(left + p.width()/2)
	p.text(p.width()/2, d.number, "R")
	f.Ln(lineH)
	p.font("", 9)
	for _, fact := range d.facts {
		f.SetX(left + p.width()/2)
		p.text(p.width()/2, fact[0]+": "+fact[1], "R")
		f.Ln(lineH)
	}
	if d.sandbox {
		f.SetX(left + p.width()/2)
		f.SetTextColor(200, 60, 0)
		p.font("B", 9)
		p.text(p.width()/2, "TEST MODE - no real money moved", "R")
		f.SetTextColor(0, 0, 0)
		f.Ln(lineH)
	}
	f.Ln(6)
}

func (p page) parties(d document) {
	f := p.f
	left, _, _, _ := f.GetMargins()
	y := f.GetY()
	half := p.width() / 2
	yFrom := p.party(left, y, half, "From", d.seller)
	yTo := p.party(left+half, y, half, "Bill to", d.buyer)
	f.SetY(max(yFrom, yTo) + 6)
}

// party writes one party's block and answers where it ends.
func (p page) party(x, y, w float64, label string, party domain.Party) float64 {
	f := p.f
	f.SetXY(x, y)
	p.font("B", 9)
	f.SetTextColor(110, 110, 110)
	p.text(w, strings.ToUpper(label), "L")
	f.SetTextColor(0, 0, 0)
	f.Ln(lineH)
	p.font("B", 10)
	f.SetX(x)
	p.text(w, party.Name, "L")
	f.Ln(lineH)
	p.font("", 9)
	rows := append([]string{}, party.AddressLines...)
	for _, id := range party.TaxIDs {
		rows = append(rows, "Tax ID: "+id.ID+typeOf(id))
	}
	if party.Email != "" {
		rows = append(rows, party.Email)
	}
	if party.SupportContact != "" {
		rows = append(rows, "Support: "+party.SupportContact)
	}
	for _, r := range rows {
		f.SetX(x)
		p.text(w, r, "L")
		f.Ln(lineH)
	}
	return f.GetY()
}

func typeOf(id domain.TaxID) string {
	if id.Type == "" {
		return ""
	}
	return " (" + id.Type + ")"
}

// columns of the lines table, as fractions of the width
var columns = []struct {
	title string
	share float64
	align string
}{{"Description", 0.40, "L"}, {"Period", 0.24, "L"}, {"Qty", 0.08, "R"}, {"Unit price", 0.14, "R"}, {"Amount", 0.14, "R"}}

func (p page) table(d document) {
	f := p.f
	w := p.width()
	p.font("B", 9)
	f.SetFillColor(240, 240, 240)
	for _, c := range columns {
		f.CellFormat(w*c.share, 7, p.tr(c.title), "B", 0, c.align, true, 0, "")
	}
	f.Ln(-1)
	p.font("", 9)
	for _, l := range d.lines {
		cells := []string{l.Description, period(l), fmt.Sprint(l.Quantity), money(l.UnitAmount, d.currency), money(l.Amount, d.currency)}
		for i, c := range columns {
			f.CellFormat(w*c.share, 7, p.tr(fit(p, c.share*w, cells[i])), "B", 0, c.align, false, 0, "")
		}
		f.Ln(-1)
	}
	f.Ln(3)
}

// fit shortens s with an ellipsis until it fits in w millimetres.
func fit(p page, w float64, s string) string {
	for p.f.GetStringWidth(p.tr(s)) > w-2 && len(s) > 4 {
		s = strings.TrimSuffix(s, "...")
		s = s[:len(s)-1] + "..."
	}
	return s
}

func period(l domain.InvoiceLine) string {
	switch {
	case l.PeriodStart != nil && l.PeriodEnd != nil:
		return l.PeriodStart.UTC().Format("2 Jan 2006") + " - " + l.PeriodEnd.UTC().Format("2 Jan 2006")
	case l.Period > 0:
		return fmt.Sprintf("Period %d", l.Period)
	}
	return ""
}

func (p page) totals(d document) {
	f := p.f
	left, _, _, _ := f.GetMargins()
	w := p.width()
	row := func(label, value string, bold bool) {
		style := ""
		if bold {
			style = "B"
		}
		p.font(style, 10)
		f.SetX(left + w*0.55)
		p.text(w*0.25, label, "L")
		p.text(w*0.20, value, "R")
		f.Ln(6)
	}
	row("Subtotal", money(d.subtotal, d.currency), false)
	row(d.taxLabel, money(d.tax, d.currency), false)
	row("Total", money(d.total, d.currency), true)
	if d.paidLabel != "" {
		row(d.paidLabel, money(d.total, d.currency), false)
	}
	f.Ln(4)
}

func (p page) footer(d document) {
	f := p.f
	p.font("", 9)
	for _, n := range append([]string{d.taxNote}, d.notes...) {
		if n != "" {
			f.MultiCell(p.width(), lineH, p.tr(n), "", "L", false)
		}
	}
	if d.seller.SupportContact != "" {
		f.Ln(2)
		f.MultiCell(p.width(), lineH, p.tr("Questions about this document: "+d.seller.SupportContact), "", "L", false)
	}
}
