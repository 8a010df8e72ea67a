// Command pulumi-language-python is demo-orq's Python language host for the Pulumi engine.
//
// The engine starts a language host, reads the port it prints on its first line of output, and
// asks it to run the program (Run), to start Python plugins such as policy packs (RunPlugin), and
// for metadata (About, GetPluginInfo...). Upstream's host is a Go module that the Go module proxy
// reachable here does not serve; this one speaks the same protocol with the sdk/v3 module's own
// stubs. It is in Go because the engine starts it twice per command (once for About, once to run
// the program): a Go host is serving in a few milliseconds, where a Python one took 0.1 s of CPU
// each time to start and import gRPC.
//
// Programs run as upstream runs them, with Pulumi's own pulumi-language-python-exec, through
// python_program_server.py's runner (both installed beside this binary), which forks them from
// a warm Python process when there is one: see that file.
package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

func main() {
	host := newHost(engineAddress(os.Args[1:]))
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-python: %v\n", err)
		os.Exit(1)
	}
	server := grpc.NewServer()
	pulumirpc.RegisterLanguageRuntimeServer(server, host)
	// The engine interrupts its plugins when it is done with them and waits for them to exit:
	// take along the programs and plugins still running, then exit at once.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-signals
		host.children.stopAll()
		os.Exit(0)
	}()
	// The engine reads the port from the first line of standard output.
	fmt.Println(listener.Addr().(*net.TCPAddr).Port)
	if err := server.Serve(listener); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-python: %v\n", err)
		os.Exit(1)
	}
}

// engineAddress is the engine's address: it passes flags (-root=..., -tracing=...) and then its
// own address, last.
func engineAddress(args []string) string {
	address := ""
	for _, arg := range args {
		if !strings.HasPrefix(arg, "-") {
			address = arg
		}
	}
	return address
}
