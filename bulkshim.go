package alexa

import "github.com/alexa-oos/alexa/internal/text"

// Violations collects validation problems.
//
// Deprecated: the bulk package's last use of it moves to
// internal/validate.Violations, which replaces it; this type is then
// removed.
type Violations []Violation

// Add records that field breaks rule.
//
// Deprecated: use internal/validate.Violations.
func (vs *Violations) Add(field, rule string, value any) {
	*vs = append(*vs, Violation{Field: field, Rule: rule, Value: text.ShowValue(value)})
}

// Err returns a *ValidationError for op, or nil.
//
// Deprecated: use internal/validate.Violations.
func (vs Violations) Err(op string) error {
	if len(vs) == 0 {
		return nil
	}
	return &ValidationError{Op: op, Violations: vs}
}
