package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/contract"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/protobuf/types/known/emptypb"
)

const (
	// The runtime reads the stack's configuration and its secret keys from these variables.
	configVar           = "PULUMI_CONFIG"
	configSecretKeysVar = "PULUMI_CONFIG_SECRET_KEYS"
	// The exec shim exits with this code after it has shown the user a message they can act on:
	// the engine should stop without adding an error of its own.
	exitAfterUserMessage = 32
)

// The oldest Python the Pulumi SDK supports; older interpreters get a warning on stderr,
// which the engine shows as a diagnostic.
var minimumPython = semver.MustParse("3.7.0")

// host serves the LanguageRuntime protocol. Methods govcloud's engine path does not use
// (code generation, templates, packing, linking, prompts for `pulumi new`) answer Unimplemented.
type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	executor string
	tracing  string

	mu            sync.Mutex
	engineAddress string
}

func newHost(executor, engineAddress, tracing string) *host {
	return &host{executor: executor, engineAddress: engineAddress, tracing: tracing}
}

func (h *host) engine() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engineAddress
}

// Handshake: an engine that attached to a running host tells it where the engine listens.
func (h *host) Handshake(ctx context.Context, req *pulumirpc.LanguageHandshakeRequest) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	h.engineAddress = req.GetEngineAddress()
	h.mu.Unlock()
	watch, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	if err := rpcutil.Healthcheck(watch, req.GetEngineAddress(), 5*time.Minute, cancel); err != nil {
		cmdutil.Exit(fmt.Errorf("could not start health check host RPC server: %w", err))
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// existingVenv resolves the toolchain of a program and checks its virtual environment: this
// host never creates one (govcloud's `make install` does), it says which one is missing.
func existingVenv(ctx context.Context, opts toolchain.PythonOptions) (toolchain.Toolchain, error) {
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, fmt.Errorf("%w (govcloud: run `make install` to create it)", err)
	}
	return tc, nil
}

// GetRequiredPackages: the resource plugins of the Pulumi packages installed in the program's
// environment, from their pulumi-plugin.json.
func (h *host) GetRequiredPackages(ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest) (*pulumirpc.GetRequiredPackagesResponse, error) {
	opts, err := programOptions(req.GetInfo())
	if err != nil {
		return nil, err
	}
	tc, err := existingVenv(ctx, opts)
	if err != nil {
		return nil, err
	}
	warnOldPython(ctx, tc)
	packages, err := requiredPackages(ctx, tc)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: packages}, nil
}

// GetRequiredPlugins: the same for engines older than GetRequiredPackages.
func (h *host) GetRequiredPlugins(ctx context.Context, req *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	packages, err := h.GetRequiredPackages(ctx, &pulumirpc.GetRequiredPackagesRequest{Info: req.GetInfo()})
	if err != nil {
		return nil, err
	}
	plugins := make([]*pulumirpc.PluginDependency, 0, len(packages.GetPackages()))
	for _, p := range packages.GetPackages() {
		plugins = append(plugins, &pulumirpc.PluginDependency{Name: p.Name, Kind: p.Kind, Version: p.Version, Server: p.Server})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

func warnOldPython(ctx context.Context, tc toolchain.Toolchain) {
	about, err := tc.About(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "Failed to resolve python version: %s\n", err)
		return
	}
	if about.PythonVersion.LT(minimumPython) {
		fmt.Fprintf(os.Stderr, "Pulumi does not support Python %s. Please upgrade to at least %s\n", about.PythonVersion, minimumPython)
	}
}

// shimArguments: the exec shim's command line for a RunRequest (only values that are set).
func (h *host) shimArguments(req *pulumirpc.RunRequest) []string {
	var args []string
	add := func(flag, value string) {
		if value != "" {
			args = append(args, "--"+flag, value)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engine())
	add("project", req.GetProject())
	add("root_directory", req.GetInfo().GetRootDirectory())
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	add("dry_run", fmt.Sprintf("%t", req.GetDryRun()))
	add("parallel", fmt.Sprintf("%d", req.GetParallel()))
	add("tracing", h.tracing)
	add("organization", req.GetOrganization())
	// The engine always names an entry point, "." for the program directory.
	args = append(args, req.GetInfo().GetEntryPoint())
	return append(args, req.GetArgs()...)
}

// runEnvironment adds the stack's configuration (JSON object) and its secret keys (JSON list).
func runEnvironment(base []string, req *pulumirpc.RunRequest) ([]string, error) {
	if base == nil {
		base = os.Environ()
	}
	env := slices.Clone(base)
	if config := req.GetConfig(); config != nil {
		encoded, err := json.Marshal(config)
		if err != nil {
			return nil, fmt.Errorf("failed to serialize configuration: %w", err)
		}
		env = append(env, configVar+"="+string(encoded))
	}
	keys := req.GetConfigSecretKeys()
	if keys == nil {
		keys = []string{}
	}
	encoded, err := json.Marshal(keys)
	if err != nil {
		return nil, fmt.Errorf("failed to serialize configuration secret keys: %w", err)
	}
	return append(env, configSecretKeysVar+"="+string(encoded)), nil
}

// Run executes the program through the exec shim in the program's virtual environment; the
// program's output goes to this host's stdout/stderr, which the engine shows.
func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	if h.engine() == "" {
		return nil, errors.New("when debugging or running explicitly, must call Handshake before Run")
	}
	if req.GetAttachDebugger() {
		return &pulumirpc.RunResponse{Error: "attaching a debugger is not supported by govcloud's Python language host"}, nil
	}
	opts, err := programOptions(req.GetInfo())
	if err != nil {
		return nil, err
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, err
	}
	cmd, err := tc.Command(ctx, append([]string{h.executor}, h.shimArguments(req)...)...)
	if err != nil {
		return nil, err
	}
	if cmd.Env, err = runEnvironment(cmd.Env, req); err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := typecheck(ctx, tc, opts, req.GetInfo().GetProgramDirectory()); err != nil {
		return nil, err
	}
	logging.V(5).Infof("language host launching process: %s", strings.Join(cmd.Args, " "))

	if err := cmd.Run(); err != nil {
		// A Python process that fails fast may not flush: make sure the engine sees what it wrote.
		contract.IgnoreError(os.Stdout.Sync())
		contract.IgnoreError(os.Stderr.Sync())
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("problem executing program (could not run language executor): %v", err)}, nil
		}
		status, ok := exit.Sys().(syscall.WaitStatus)
		switch {
		case !ok || status.ExitStatus() == 0:
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("program exited unexpectedly: %v", exit)}, nil
		case status.ExitStatus() == exitAfterUserMessage:
			return &pulumirpc.RunResponse{Bail: true}, nil
		default:
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("program exited with non-zero exit code: %d", status.ExitStatus())}, nil
		}
	}
	return &pulumirpc.RunResponse{}, nil
}

// typecheck runs the project's typechecker option (mypy or pyright) over the program first.
func typecheck(ctx context.Context, tc toolchain.Toolchain, opts toolchain.PythonOptions, programDir string) error {
	var name string
	switch opts.Typechecker {
	case toolchain.TypeCheckerMypy:
		name = "mypy"
	case toolchain.TypeCheckerPyright:
		name = "pyright"
	default:
		return nil
	}
	deps, err := tc.ListPackages(ctx, true)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(deps, func(d plugin.DependencyInfo) bool { return d.Name == name }) {
		return fmt.Errorf("the typechecker option is set to %s, but %s is not installed in the program's environment", name, name)
	}
	args := []string{"-m", name}
	if name == "mypy" {
		venv, err := tc.VirtualEnvPath(ctx)
		if err != nil {
			return err
		}
		if venv != "" {
			rel, err := filepath.Rel(programDir, venv)
			if err != nil {
				return err
			}
			args = append(args, "--exclude", rel)
		}
	}
	args = append(args, programDir)
	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return err
	}
	cmd.Dir, cmd.Stdout, cmd.Stderr = programDir, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s failed: %w", name, err)
	}
	return nil
}

// InstallDependencies: govcloud's environments are made by `make install`; this host checks the
// one the project names and installs nothing (no network access from a deploy).
func (h *host) InstallDependencies(req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer) error {
	opts, err := programOptions(req.GetInfo())
	if err != nil {
		return err
	}
	if req.GetIsPlugin() && opts.Toolchain == toolchain.Pip && opts.Virtualenv == "" {
		opts.Virtualenv = "venv"
	}
	closer, stdout, _, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()
	if opts.Virtualenv == "" {
		return errors.New("govcloud's Python language host installs nothing into the ambient Python: " +
			"set runtime.options.virtualenv to the environment `make install` creates")
	}
	tc, err := existingVenv(server.Context(), opts)
	if err != nil {
		return err
	}
	venv, err := tc.VirtualEnvPath(server.Context())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Using the virtual environment %s (made by `make install`); nothing to install\n", venv)
	return closer.Close()
}

func (h *host) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	opts := toolchain.PythonOptions{Toolchain: toolchain.Pip}
	if req.GetInfo() != nil {
		var err error
		if opts, err = programOptions(req.GetInfo()); err != nil {
			return nil, err
		}
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	info, err := tc.About(ctx)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{Executable: info.PythonExecutable, Version: info.PythonVersion.String()}, nil
}

func (h *host) GetProgramDependencies(ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest) (*pulumirpc.GetProgramDependenciesResponse, error) {
	opts, err := programOptions(req.GetInfo())
	if err != nil {
		return nil, err
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	deps, err := tc.ListPackages(ctx, req.GetTransitiveDependencies())
	if err != nil {
		return nil, fmt.Errorf("failed to get python dependencies: %w", err)
	}
	out := make([]*pulumirpc.DependencyInfo, len(deps))
	for i, d := range deps {
		out[i] = &pulumirpc.DependencyInfo{Name: d.Name, Version: d.Version}
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: out}, nil
}

// RunPlugin starts a Python plugin; the engine starts Python policy packs (PulumiPolicy.yaml)
// this way. A plugin directory with __main__.py runs as `python <dir> ARGS...`; a buildable
// package without one runs as `python -m pulumi.run.plugin <project name> ARGS...`.
func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	ctx := server.Context()
	opts, err := pluginOptions(req.GetInfo())
	if err != nil {
		return err
	}
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return err
	}
	var cmd *exec.Cmd
	_, statErr := os.Stat(filepath.Join(opts.Root, "__main__.py"))
	if statErr != nil && !os.IsNotExist(statErr) {
		return fmt.Errorf("looking for __main__.py: %w", statErr)
	}
	if os.IsNotExist(statErr) && hasPluginRunner(ctx, tc) {
		buildable, err := toolchain.IsBuildablePackage(opts.Root)
		if err != nil {
			return fmt.Errorf("checking if plugin is a buildable package: %w", err)
		}
		if !buildable {
			return errors.New("plugin is not runnable, it provides neither __main__.py nor a buildable pyproject.toml")
		}
		project, err := toolchain.LoadPyproject(opts.Root)
		if err != nil {
			return fmt.Errorf("loading pyproject: %w", err)
		}
		cmd, err = tc.ModuleCommand(ctx, "pulumi.run.plugin", append([]string{project.Project.Name}, req.GetArgs()...)...)
		if err != nil {
			return err
		}
	} else {
		cmd, err = tc.Command(ctx, append([]string{req.GetInfo().GetProgramDirectory()}, req.GetArgs()...)...)
		if err != nil {
			return err
		}
	}
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()
	cmd.Dir = req.GetPwd()
	cmd.Env = append(cmd.Env, req.GetEnv()...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	logging.V(5).Infof("RunPlugin: %s", cmd.String())
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return fmt.Errorf("problem executing plugin program (could not run language executor): %w", err)
		}
		if status, ok := exit.Sys().(syscall.WaitStatus); ok {
			//nolint:gosec // exit statuses fit the lower 8 bits
			return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(status.ExitStatus())}})
		}
		return fmt.Errorf("program exited unexpectedly: %w", exit)
	}
	return closer.Close()
}

// hasPluginRunner: whether the environment's Pulumi SDK has pulumi.run.plugin (older ones do not).
func hasPluginRunner(ctx context.Context, tc toolchain.Toolchain) bool {
	cmd, err := tc.Command(ctx, "-c", "import pulumi.run.plugin")
	if err != nil {
		return false
	}
	out, err := cmd.CombinedOutput()
	return err == nil || !strings.Contains(string(out), "ModuleNotFoundError")
}
