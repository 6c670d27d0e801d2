package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/domain"
)

// Page selects one page of a list: Page starts at 1.
type Page struct {
	Page  int
	Limit int
}

// Offset is the number of rows before the page.
func (p Page) Offset() int { return (p.Page - 1) * p.Limit }

const customerCols = `id, merchant_id, coalesce(external_ref, ''), email, name, type, status, timezone, roles,
	organization, metadata, payment_method, card_brand, card_last4, card_exp_month, card_exp_year, created_at, updated_at`

func scanCustomer(row pgx.Row) (domain.Customer, error) {
	var c domain.Customer
	var org, meta []byte
	var card domain.Card
	err := row.Scan(&c.Ref, &c.MerchantRef, &c.ExternalRef, &c.Email, &c.Name, &c.Type, &c.Status, &c.Timezone,
		&c.Roles, &org, &meta, &card.PaymentMethod, &card.Brand, &card.Last4, &card.ExpMonth, &card.ExpYear,
		&c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return c, err
	}
	if len(org) > 0 {
		c.Organization = json.RawMessage(org)
	}
	if len(meta) > 2 {
		_ = json.Unmarshal(meta, &c.Metadata)
	}
	if card.PaymentMethod != "" {
		c.Card = &card
	}
	return c, nil
}

// CreateCustomer inserts c (Ref is assigned). A taken externalRef is RESOURCE_ALREADY_EXISTS.
func (s *Store) CreateCustomer(ctx context.Context, c domain.Customer) (domain.Customer, error) {
	c.Ref = domain.NewRef(domain.PrefixCustomer)
	meta, _ := json.Marshal(nonNilMap(c.Metadata))
	var org []byte
	if len(c.Organization) > 0 {
		org = c.Organization
	}
	if c.Roles == nil {
		c.Roles = []string{}
	}
	var out domain.Customer
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanCustomer(tx.QueryRow(ctx, `INSERT INTO customers (id, merchant_id, external_ref, email, name, type,
			status, timezone, roles, organization, metadata) VALUES ($1,$2,nullif($3,''),$4,$5,$6,$7,$8,$9,$10,$11)
			RETURNING `+customerCols,
			c.Ref, c.MerchantRef, c.ExternalRef, c.Email, c.Name, defaultStr(c.Type, "INDIVIDUAL"),
			defaultStr(c.Status, domain.CustomerActive), c.Timezone, c.Roles, org, meta))
		if err != nil {
			return err
		}
		return insertEvent(ctx, tx, customerEvent(ctx, domain.EventCustomerCreated, out))
	})
	if isUniqueViolation(err, "customers_external_ref") {
		return out, domain.Errorf(domain.CodeAlreadyExists, "reference", "a customer with reference %q already exists", c.ExternalRef)
	}
	if err != nil {
		return out, fmt.Errorf("create customer: %w", err)
	}
	return out, nil
}

// GetCustomer finds a live customer of merchant by its cus_ reference or by the merchant's own
// reference (externalRef). Another merchant's customer is not found.
func (s *Store) GetCustomer(ctx context.Context, merchant, ref string) (domain.Customer, error) {
	c, err := scanCustomer(s.Pool.QueryRow(ctx, `SELECT `+customerCols+` FROM customers
		WHERE merchant_id = $1 AND deleted_at IS NULL AND (id = $2 OR external_ref = $2)
		ORDER BY (id = $2) DESC LIMIT 1`, merchant, ref))
	return c, notFoundIfNoRows(err, "customer", ref)
}

// FindCustomerByEmail returns the oldest live customer with this email (case-insensitive).
func (s *Store) FindCustomerByEmail(ctx context.Context, merchant, email string) (domain.Customer, error) {
	c, err := scanCustomer(s.Pool.QueryRow(ctx, `SELECT `+customerCols+` FROM customers
		WHERE merchant_id = $1 AND deleted_at IS NULL AND lower(email) = lower($2)
		ORDER BY created_at, id LIMIT 1`, merchant, email))
	return c, notFoundIfNoRows(err, "customer", email)
}

// CustomerFilter narrows ListCustomers. Empty fields do not filter.
type CustomerFilter struct {
	ExternalRef string // exact
	Email       string // exact, case-insensitive
	Search      string // substring of name, email or references
	Status      string
}

// ListCustomers returns one page of the merchant's customers, oldest first, and the total.
func (s *Store) ListCustomers(ctx context.Context, merchant string, f CustomerFilter, p Page) ([]domain.Customer, int, error) {
	where := []string{"merchant_id = $1", "deleted_at IS NULL"}
	args := []any{merchant}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.ExternalRef != "" {
		add("external_ref = $%d", f.ExternalRef)
	}
	if f.Email != "" {
		add("lower(email) = lower($%d)", f.Email)
	}
	if f.Status != "" {
		add("status = $%d", f.Status)
	}
	if f.Search != "" {
		add("(name ILIKE $%[1]d OR email ILIKE $%[1]d OR id ILIKE $%[1]d OR external_ref ILIKE $%[1]d)", "%"+likeEscape(f.Search)+"%")
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM customers WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count customers: %w", err)
	}
	args = append(args, p.Limit, p.Offset())
	rows, err := s.Pool.Query(ctx, fmt.Sprintf(`SELECT %s FROM customers WHERE %s ORDER BY created_at, id LIMIT $%d OFFSET $%d`,
		customerCols, cond, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list customers: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.Customer, error) { return scanCustomer(r) })
	return out, total, err
}

// CustomerPatch holds the fields an update may change; nil leaves a field as it is.
type CustomerPatch struct {
	ExternalRef  *string
	Email        *string
	Name         *string
	Status       *string
	Timezone     *string
	Type         *string
	Roles        []string
	Organization json.RawMessage
	Metadata     map[string]string
}

// UpdateCustomer applies patch to the customer found by ref.
func (s *Store) UpdateCustomer(ctx context.Context, merchant, ref string, patch CustomerPatch) (domain.Customer, error) {
	cur, err := s.GetCustomer(ctx, merchant, ref)
	if err != nil {
		return cur, err
	}
	var meta []byte
	if patch.Metadata != nil {
		meta, _ = json.Marshal(patch.Metadata)
	}
	var org []byte
	if len(patch.Organization) > 0 {
		org = patch.Organization
	}
	var c domain.Customer
	err = s.InTx(ctx, func(tx pgx.Tx) error {
		var err error
		c, err = scanCustomer(tx.QueryRow(ctx, `UPDATE customers SET
			external_ref = CASE WHEN $3::text IS NULL THEN external_ref ELSE nullif($3, '') END,
			email = coalesce($4, email), name = coalesce($5, name), status = coalesce($6, status),
			timezone = coalesce($7, timezone), type = coalesce($8, type), roles = coalesce($9, roles),
			organization = coalesce($10, organization), metadata = coalesce($11, metadata), updated_at = now()
			WHERE merchant_id = $1 AND id = $2 RETURNING `+customerCols,
			merchant, cur.Ref, patch.ExternalRef, patch.Email, patch.Name, patch.Status, patch.Timezone, patch.Type,
			patch.Roles, org, meta))
		if err != nil {
			return err
		}
		return insertEvent(ctx, tx, customerEvent(ctx, domain.EventCustomerUpdated, c))
	})
	if isUniqueViolation(err, "customers_external_ref") {
		return c, domain.Errorf(domain.CodeAlreadyExists, "externalRef", "another customer already has reference %q", *patch.ExternalRef)
	}
	return c, err
}

// DeleteCustomer soft-deletes: purchases and transactions keep pointing at the row.
func (s *Store) DeleteCustomer(ctx context.Context, merchant, ref string) error {
	cur, err := s.GetCustomer(ctx, merchant, ref)
	if err != nil {
		return err
	}
	return s.InTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE customers SET deleted_at = now() WHERE merchant_id = $1 AND id = $2
			AND deleted_at IS NULL`, merchant, cur.Ref)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return insertEvent(ctx, tx, customerEvent(ctx, domain.EventCustomerDeleted, cur))
	})
}

const setCardSQL = `UPDATE customers SET payment_method = $3, card_brand = $4, card_last4 = $5,
		card_exp_month = $6, card_exp_year = $7,
		processor_customer_id = CASE WHEN $8 = '' THEN processor_customer_id ELSE $8 END, updated_at = now()
		WHERE merchant_id = $1 AND id = $2 AND deleted_at IS NULL`

// SetPaymentMethod stores the customer's default card as the processor reported it.
func (s *Store) SetPaymentMethod(ctx context.Context, merchant, ref string, card domain.Card, processorCustomer string) error {
	tag, err := s.Pool.Exec(ctx, setCardSQL,
		merchant, ref, card.PaymentMethod, card.Brand, card.Last4, card.ExpMonth, card.ExpYear, processorCustomer)
	if err == nil && tag.RowsAffected() == 0 {
		return domain.NotFound("customer", ref)
	}
	return err
}

// ReplacePaymentMethod makes card the customer's default again, only while the default is
// still the payment method from (a card saved meanwhile is kept).
func (s *Store) ReplacePaymentMethod(ctx context.Context, merchant, ref, from string, card domain.Card) error {
	_, err := s.Pool.Exec(ctx, setCardSQL+` AND payment_method = $9`,
		merchant, ref, card.PaymentMethod, card.Brand, card.Last4, card.ExpMonth, card.ExpYear, "", from)
	return err
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func defaultStr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
