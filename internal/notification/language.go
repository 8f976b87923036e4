package notification

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"text/template"
	"text/template/parse"
	"unicode/utf8"
)

// ErrNotAllowed is wrapped by Parse's refusal of a construct outside the
// language of channel texts.
var ErrNotAllowed = errors.New("not allowed in a message template")

// fields are Data's field names, the only names a template may use.
var fields = func() map[string]bool {
	m := map[string]bool{}
	t := reflect.TypeFor[Data]()
	for i := range t.NumField() {
		m[t.Field(i).Name] = true
	}
	return m
}()

// Parse parses src, a channel text at most limit characters long, and checks
// that it stays within the language of channel texts: text, comments,
// {{.Field}} of Data's fields, and {{if .Field}}, {{with .Field}} (inside which
// {{.}} is that field) with {{else}}. Everything that could loop, call a
// function, allocate or name another template (range, printf and every other
// function, pipelines, variables, define, block, template) is refused, so
// executing what Parse returns is one pass over the text, writing nothing but
// the text and the fields. Nothing is executed here.
func Parse(name, src string, limit int) (*template.Template, error) {
	if n := utf8.RuneCountInString(src); n > limit {
		return nil, fmt.Errorf("%s is %d characters long, more than %d", name, n, limit)
	}
	t, err := template.New(name).Parse(src)
	if err != nil {
		return nil, fmt.Errorf("%s is not a valid template: %w", name, err)
	}
	if len(t.Templates()) > 1 {
		return nil, fmt.Errorf("%s: define and block are %w", name, ErrNotAllowed)
	}
	if t.Tree == nil || t.Root == nil {
		return t, nil
	}
	if err := check(t.Root, false); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return t, nil
}

// check walks n; inWith is true inside the body of a with, where dot is the
// field it tested.
func check(n parse.Node, inWith bool) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := check(c, inWith); err != nil {
				return err
			}
		}
		return nil
	case *parse.TextNode, *parse.CommentNode:
		return nil
	case *parse.ActionNode:
		return checkPipe(n.Pipe, inWith)
	case *parse.IfNode:
		return checkBranch(&n.BranchNode, inWith, inWith)
	case *parse.WithNode:
		return checkBranch(&n.BranchNode, inWith, true)
	case *parse.RangeNode:
		return fmt.Errorf("range is %w", ErrNotAllowed)
	case *parse.TemplateNode:
		return fmt.Errorf("template and block are %w", ErrNotAllowed)
	case *parse.BreakNode, *parse.ContinueNode:
		return fmt.Errorf("break and continue are %w", ErrNotAllowed)
	}
	return fmt.Errorf("%s is %w", n, ErrNotAllowed)
}

// checkBranch walks an if or a with; listInWith is whether dot, in its first
// list, is the field it tested.
func checkBranch(n *parse.BranchNode, inWith, listInWith bool) error {
	if err := checkPipe(n.Pipe, inWith); err != nil {
		return err
	}
	if err := check(n.List, listInWith); err != nil {
		return err
	}
	return check(n.ElseList, inWith)
}

// checkPipe allows exactly one operand, without declarations: a field of Data
// (or, inside a with, the dot it set).
func checkPipe(p *parse.PipeNode, inWith bool) error {
	if len(p.Decl) > 0 {
		return fmt.Errorf("variables (%s) are %w", p, ErrNotAllowed)
	}
	if len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return fmt.Errorf("%q: function calls and pipelines are %w; use {{.Field}}", p, ErrNotAllowed)
	}
	switch a := p.Cmds[0].Args[0].(type) {
	case *parse.FieldNode:
		if inWith {
			return fmt.Errorf("%q: inside with, {{.}} is the field tested; other fields are %w there", p, ErrNotAllowed)
		}
		if len(a.Ident) != 1 || !fields[a.Ident[0]] {
			return fmt.Errorf("%q is not a field; use one of %s", p, fieldList())
		}
		return nil
	case *parse.DotNode:
		if inWith {
			return nil
		}
	}
	return fmt.Errorf("%q is %w; use one of %s", p, ErrNotAllowed, fieldList())
}

func fieldList() string {
	names := make([]string, 0, len(fields))
	t := reflect.TypeFor[Data]()
	for i := range t.NumField() {
		names = append(names, "."+t.Field(i).Name)
	}
	return strings.Join(names, ", ")
}

// limitedWriter keeps what is written until it exceeds limit characters, then
// refuses every write, which stops the template's execution.
type limitedWriter struct {
	b     strings.Builder
	n     int
	limit int
	over  bool
}

var errOverLimit = errors.New("output over its limit")

func (w *limitedWriter) Write(p []byte) (int, error) {
	if w.over {
		return 0, errOverLimit
	}
	w.n += utf8.RuneCount(p)
	if w.n > w.limit {
		w.over = true
		return 0, errOverLimit
	}
	return w.b.Write(p)
}
