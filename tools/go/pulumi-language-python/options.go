package main

import (
	"errors"
	"fmt"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

// programOptions reads the runtime options of Pulumi.yaml / PulumiPolicy.yaml
// (runtime.options: virtualenv, typechecker, toolchain) for a program or plugin.
func programOptions(info *pulumirpc.ProgramInfo) (toolchain.PythonOptions, error) {
	if info == nil {
		return toolchain.PythonOptions{}, errors.New("the engine sent no program information")
	}
	opts := toolchain.PythonOptions{Root: info.GetRootDirectory(), ProgramDir: info.GetProgramDirectory()}
	raw := map[string]any{}
	if info.GetOptions() != nil {
		raw = info.GetOptions().AsMap()
	}
	text := func(key string) (string, bool, error) {
		value, present := raw[key]
		if !present {
			return "", false, nil
		}
		s, ok := value.(string)
		if !ok {
			return "", true, fmt.Errorf("%s option must be a string", key)
		}
		return s, true, nil
	}

	venv, _, err := text("virtualenv")
	if err != nil {
		return opts, err
	}
	opts.Virtualenv = venv

	checker, present, err := text("typechecker")
	if err != nil {
		return opts, err
	}
	if present {
		switch checker {
		case "mypy":
			opts.Typechecker = toolchain.TypeCheckerMypy
		case "pyright":
			opts.Typechecker = toolchain.TypeCheckerPyright
		default:
			return opts, fmt.Errorf("unsupported typechecker option: %s", checker)
		}
	}

	manager, present, err := text("toolchain")
	if err != nil {
		return opts, err
	}
	if present {
		switch manager {
		case "pip":
			opts.Toolchain = toolchain.Pip
		case "poetry":
			opts.Toolchain = toolchain.Poetry
		case "uv":
			opts.Toolchain = toolchain.Uv
		default:
			return opts, fmt.Errorf("unsupported toolchain option: %s", manager)
		}
	}
	return opts, nil
}

// pluginOptions are a plugin's (policy pack's) options: plugins never run in the ambient Python,
// so a pip plugin without a virtualenv option uses "venv" next to its PulumiPolicy.yaml.
func pluginOptions(info *pulumirpc.ProgramInfo) (toolchain.PythonOptions, error) {
	opts, err := programOptions(info)
	if err == nil && opts.Toolchain == toolchain.Pip && opts.Virtualenv == "" {
		opts.Virtualenv = "venv"
	}
	return opts, err
}
