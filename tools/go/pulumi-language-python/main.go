// govcloud's own Python language host for the Pulumi engine.
//
// Why it exists: the upstream host is its own Go module,
// github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3, and the Go module proxy
// refuses every version of it ("reading https://proxy.golang.org/.../@v/list: 403 Forbidden:
// This module version is not available"). Everything it builds on is served: the sdk/v3 module
// carries the LanguageRuntime protocol (pulumirpc), the Python toolchain package
// (github.com/pulumi/pulumi/sdk/v3/python/toolchain: virtual environments, pip) and the exec
// shim (python/cmd/pulumi-language-python-exec) that runs a program against the engine. This
// host is written for govcloud against that protocol, following the upstream host's documented
// behaviour (arguments and environment of the shim, plugin discovery from pulumi-plugin.json,
// policy packs through RunPlugin); it is not a copy of upstream code.
//
// The engine starts it as `pulumi-language-python [flags] ENGINE_ADDRESS`; it prints the port
// of its gRPC server on the first line of stdout and serves until the engine goes away.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

// The exec shim from the sdk module, installed next to this binary (a toolchain companion).
const execShim = "pulumi-language-python-exec"

// version is set at link time: the sdk/v3 release the host is built against, marked as govcloud's.
var version = "dev"

func main() {
	var tracing, givenExecutor string
	flag.StringVar(&tracing, "tracing", "", "Emit tracing to a Zipkin-compatible tracing endpoint")
	flag.StringVar(&givenExecutor, "use-executor", "", "Use the given program as the executor instead of the shim next to this binary")
	// Accepted and ignored, as the upstream host does: these now come from the project's runtime options.
	flag.String("virtualenv", "", "[obsolete] Virtual environment path to use")
	flag.String("root", "", "[obsolete] Project root path to use")
	flag.String("typechecker", "", "[obsolete] Use a typechecker to type check")
	flag.String("toolchain", "pip", "[obsolete] Select the package manager to use for dependency management.")
	flag.Parse()

	logging.InitLogging(false, 0, false)
	cmdutil.InitTracing("pulumi-language-python", "pulumi-language-python", tracing)

	executor := givenExecutor
	if executor == "" {
		self, err := os.Executable()
		if err != nil {
			cmdutil.Exit(fmt.Errorf("could not determine current executable: %w", err))
		}
		executor = filepath.Join(filepath.Dir(self), execShim)
		if _, err := os.Stat(executor); err != nil {
			cmdutil.Exit(fmt.Errorf("missing executor %s: %w", executor, err))
		}
	}

	engineAddress := ""
	if args := flag.Args(); len(args) > 0 {
		engineAddress = args[0]
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	stop := make(chan bool)
	go func() {
		<-ctx.Done()
		cancel()
		close(stop)
	}()
	if engineAddress != "" {
		// Stop serving when the engine is gone.
		if err := rpcutil.Healthcheck(ctx, engineAddress, 5*time.Minute, cancel); err != nil {
			cmdutil.Exit(fmt.Errorf("could not start health check host RPC server: %w", err))
		}
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: stop,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, newHost(executor, engineAddress, tracing))
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not start language host RPC server: %w", err))
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("language host RPC stopped serving: %w", err))
	}
}
