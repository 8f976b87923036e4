package plugin

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/printers"
	"sigs.k8s.io/yaml"
)

// output is the -o flag of the verbs that print objects or reports.
type output struct{ format string }

var outputFormats = []string{"json", "yaml"}

func (o *output) addFlag(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&o.format, "output", "o", "", "Print the result as json or yaml instead of a sentence.")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(outputFormats, cobra.ShellCompDirectiveNoFileComp))
}

func (o *output) validate() error {
	switch o.format {
	case "", "json", "yaml":
		return nil
	}
	return fmt.Errorf("unknown output format %q: use json or yaml", o.format)
}

// structured tells whether the user asked for json or yaml.
func (o *output) structured() bool { return o.format != "" }

// object prints a Kubernetes object with its apiVersion and kind, and without
// its managedFields, as kubectl get -o does.
func (o *output) object(w io.Writer, obj runtime.Object) error {
	if m, err := meta.Accessor(obj); err == nil {
		m.SetManagedFields(nil)
	}
	var p printers.ResourcePrinter = &printers.JSONPrinter{}
	if o.format == "yaml" {
		p = &printers.YAMLPrinter{}
	}
	return printers.NewTypeSetter(scheme).ToPrinter(p).PrintObj(obj, w)
}

// result prints what a verb changed: the object with -o, else the sentence.
func (o *output) result(w io.Writer, obj runtime.Object, line string) error {
	if o.structured() {
		return o.object(w, obj)
	}
	_, err := fmt.Fprintln(w, line)
	return err
}

// report prints a report: as data with -o, else as print writes it for people.
func (o *output) report(w io.Writer, v any, print func(io.Writer) error) error {
	if o.structured() {
		return o.value(w, v)
	}
	return print(w)
}

// value prints a report (a trace, a funnel) that is not a Kubernetes object.
func (o *output) value(w io.Writer, v any) error {
	var data []byte
	var err error
	if o.format == "yaml" {
		data, err = yaml.Marshal(v)
	} else {
		data, err = json.MarshalIndent(v, "", "    ")
		data = append(data, '\n')
	}
	if err != nil {
		return fmt.Errorf("encoding the %s output: %w", o.format, err)
	}
	_, err = w.Write(data)
	return err
}
