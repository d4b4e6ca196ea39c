// Command alexa-oos sends Alexa proactive events and skill messages, fetches
// Login-with-Amazon tokens and serves a local emulator of all three APIs.
// Run "alexa-oos help" for the commands.
package main

import (
	"os"

	"github.com/alexa-oos/alexa/cmd/alexa-oos/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
