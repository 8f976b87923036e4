// Command kubectl-whatsapp is the kubectl plugin of the WhatsApp commerce
// operator: on the PATH, it runs as `kubectl whatsapp`.
package main

import (
	"fmt"
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/whatsapp-commerce-operator/whatsapp-commerce-operator/cmd/kubectl-whatsapp/plugin"
)

func main() {
	cmd := plugin.NewCommand(genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	if err := cmd.Execute(); err != nil {
		// The messages are sentences meant for people: no "Error:" prefix, no usage dump.
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
