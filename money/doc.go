// Package money is Tollgate's arithmetic on amounts: integers in the minor units of an ISO 4217
// currency, never floats. Each rule lives here once, with a table of hand-computed cases beside
// it: checked sums and products (checked.go), the processor's smallest charge per currency
// (minimums.go). It does no I/O, so the purchase workflow uses it as it is.
package money
