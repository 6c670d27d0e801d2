package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tollgate-billing/tollgate/domain"
)

const productCols = `id, merchant_id, name, description, status, metadata, created_at, updated_at`

func scanProduct(row pgx.Row) (domain.Product, error) {
	var p domain.Product
	var meta []byte
	err := row.Scan(&p.Ref, &p.MerchantRef, &p.Name, &p.Description, &p.Status, &meta, &p.CreatedAt, &p.UpdatedAt)
	if err == nil && len(meta) > 2 {
		_ = json.Unmarshal(meta, &p.Metadata)
	}
	return p, err
}

// validateProduct checks the fields a merchant sets; it fills the defaults.
func validateProduct(p *domain.Product) error {
	p.Name = strings.TrimSpace(p.Name)
	if p.Name == "" {
		return domain.Errorf(domain.CodeMissingField, "name", "name is required")
	}
	p.Status = defaultStr(p.Status, domain.StatusActive)
	if !validCatalogStatus(p.Status) {
		return domain.Errorf(domain.CodeInvalidField, "status", "status must be active, inactive or archived, not %q", p.Status)
	}
	return nil
}

func validCatalogStatus(s string) bool {
	return s == domain.StatusActive || s == domain.StatusInactive || s == domain.StatusArchived
}

// CreateProduct inserts p for p.MerchantRef (Ref is assigned).
func (s *Store) CreateProduct(ctx context.Context, p domain.Product) (domain.Product, error) {
	if err := validateProduct(&p); err != nil {
		return p, err
	}
	p.Ref = domain.NewRef(domain.PrefixProduct)
	meta, _ := json.Marshal(nonNilMap(p.Metadata))
	out, err := scanProduct(s.Pool.QueryRow(ctx, `INSERT INTO products (id, merchant_id, name, description, status, metadata)
		VALUES ($1,$2,$3,$4,$5,$6) RETURNING `+productCols, p.Ref, p.MerchantRef, p.Name, p.Description, p.Status, meta))
	if err != nil {
		return out, fmt.Errorf("create product: %w", err)
	}
	return out, nil
}

// GetProduct finds a live product of merchant. Another merchant's product is not found.
func (s *Store) GetProduct(ctx context.Context, merchant, ref string) (domain.Product, error) {
	p, err := scanProduct(s.Pool.QueryRow(ctx, `SELECT `+productCols+` FROM products
		WHERE merchant_id = $1 AND id = $2 AND deleted_at IS NULL`, merchant, ref))
	return p, notFoundIfNoRows(err, "product", ref)
}

// ProductFilter narrows ListProducts. Empty fields do not filter.
type ProductFilter struct {
	Status string
	Search string // substring of name, description or reference
}

// ListProducts returns one page of the merchant's products, oldest first, and the total.
func (s *Store) ListProducts(ctx context.Context, merchant string, f ProductFilter, p Page) ([]domain.Product, int, error) {
	q := newWhere("merchant_id = $1 AND deleted_at IS NULL", merchant)
	if f.Status != "" {
		q.add("status = $%d", f.Status)
	}
	if f.Search != "" {
		q.add("(name ILIKE $%[1]d OR description ILIKE $%[1]d OR id ILIKE $%[1]d)", "%"+likeEscape(f.Search)+"%")
	}
	return listPage(ctx, s.Pool, "products", productCols, q, "created_at, id", p, scanProduct)
}

// ProductPatch holds the fields an update may change; nil leaves a field as it is.
type ProductPatch struct {
	Name        *string
	Description *string
	Status      *string
	Metadata    map[string]string
}

// UpdateProduct applies patch to the product.
func (s *Store) UpdateProduct(ctx context.Context, merchant, ref string, patch ProductPatch) (domain.Product, error) {
	cur, err := s.GetProduct(ctx, merchant, ref)
	if err != nil {
		return cur, err
	}
	setIf(&cur.Name, patch.Name)
	setIf(&cur.Description, patch.Description)
	setIf(&cur.Status, patch.Status)
	if patch.Metadata != nil {
		cur.Metadata = patch.Metadata
	}
	if err := validateProduct(&cur); err != nil {
		return cur, err
	}
	meta, _ := json.Marshal(nonNilMap(cur.Metadata))
	out, err := scanProduct(s.Pool.QueryRow(ctx, `UPDATE products SET name = $3, description = $4, status = $5,
		metadata = $6, updated_at = now() WHERE merchant_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING `+productCols,
		merchant, cur.Ref, cur.Name, cur.Description, cur.Status, meta))
	return out, notFoundIfNoRows(err, "product", ref)
}

// DeleteProduct soft-deletes the product and its plans: purchases keep pointing at the rows,
// and their workflows keep running on the plan they were bought with.
func (s *Store) DeleteProduct(ctx context.Context, merchant, ref string) error {
	return s.InTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE products SET deleted_at = now(), updated_at = now()
			WHERE merchant_id = $1 AND id = $2 AND deleted_at IS NULL`, merchant, ref)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return domain.NotFound("product", ref)
		}
		_, err = tx.Exec(ctx, `UPDATE plans SET deleted_at = now(), updated_at = now()
			WHERE merchant_id = $1 AND product_id = $2 AND deleted_at IS NULL`, merchant, ref)
		return err
	})
}

// where builds a WHERE clause with numbered arguments.
type where struct {
	conds []string
	args  []any
}

func newWhere(first string, args ...any) *where {
	return &where{conds: []string{first}, args: args}
}

// add appends a condition whose %d verbs are the new argument's number.
func (w *where) add(cond string, v any) {
	w.args = append(w.args, v)
	w.conds = append(w.conds, fmt.Sprintf(cond, len(w.args)))
}

func (w *where) String() string { return strings.Join(w.conds, " AND ") }

// listPage counts the rows matching q and returns one page of them in order.
func listPage[T any](ctx context.Context, db DBTX, table, cols string, q *where, order string, p Page,
	scan func(pgx.Row) (T, error)) ([]T, int, error) {
	var total int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM `+table+` WHERE `+q.String(), q.args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count %s: %w", table, err)
	}
	p = p.normalised()
	args := append(append([]any{}, q.args...), p.Limit, p.Offset())
	rows, err := db.Query(ctx, fmt.Sprintf(`SELECT %s FROM %s WHERE %s ORDER BY %s LIMIT $%d OFFSET $%d`,
		cols, table, q, order, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", table, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
	if out == nil {
		out = []T{}
	}
	return out, total, err
}

// normalised guards against a zero Page (a caller that forgot to fill it): page 1 of 10.
func (p Page) normalised() Page {
	if p.Page < 1 {
		p.Page = 1
	}
	if p.Limit < 1 {
		p.Limit = 10
	}
	return p
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}
