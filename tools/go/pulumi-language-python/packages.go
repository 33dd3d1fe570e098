package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

// An installed distribution and the site-packages directory it lives in.
type distribution struct {
	Name     string `json:"name"`
	Version  string `json:"version"`
	Location string `json:"location"`
}

// Distributions that are Pulumi packages without a resource plugin of their own.
var withoutPlugin = map[string]bool{
	"pulumi-policy": true, "pulumi_policy": true,
	"pulumi-esc-sdk": true, "pulumi_esc_sdk": true,
}

// installed lists every distribution of the program's environment with its location
// (`python -m pip list -v --format json`; pip may print a trailer after the JSON).
func installed(ctx context.Context, tc toolchain.Toolchain) ([]distribution, error) {
	cmd, err := tc.ModuleCommand(ctx, "pip", "list", "-v", "--format", "json")
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("calling `%s`: %w: %s", strings.Join(cmd.Args, " "), err, strings.TrimSpace(stderr.String()))
	}
	var found []distribution
	if err := json.NewDecoder(bytes.NewReader(out)).Decode(&found); err != nil {
		return nil, fmt.Errorf("parsing `%s` output: %w", strings.Join(cmd.Args, " "), err)
	}
	sort.Slice(found, func(i, j int) bool { return found[i].Name < found[j].Name })
	return found, nil
}

// pluginJSON reads <location>/<module>/pulumi-plugin.json, the module being the distribution's
// name with hyphens as underscores (the convention of every Pulumi package); nil when absent.
func pluginJSON(d distribution) (*plugin.PulumiPluginJSON, error) {
	path := filepath.Join(d.Location, strings.ReplaceAll(d.Name, "-", "_"), "pulumi-plugin.json")
	logging.V(5).Infof("reading %s", path)
	found, err := plugin.LoadPulumiPluginJSON(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return found, err
}

// requiredPackages are the resource plugins the program's Pulumi packages ask the engine for.
func requiredPackages(ctx context.Context, tc toolchain.Toolchain) ([]*pulumirpc.PackageDependency, error) {
	all, err := installed(ctx, tc)
	if err != nil {
		return nil, err
	}
	var packages []*pulumirpc.PackageDependency
	for _, d := range all {
		if withoutPlugin[d.Name] {
			continue
		}
		meta, err := pluginJSON(d)
		if err != nil {
			return nil, fmt.Errorf("reading pulumi-plugin.json of %s: %w", d.Name, err)
		}
		// A Pulumi package: one that carries pulumi-plugin.json, or is named pulumi-* / pulumi_*.
		if meta == nil && !strings.HasPrefix(d.Name, "pulumi-") && !strings.HasPrefix(d.Name, "pulumi_") {
			continue
		}
		dep, err := packageDependency(d, meta)
		if err != nil {
			return nil, err
		}
		if dep != nil {
			packages = append(packages, dep)
		}
	}
	return packages, nil
}

// packageDependency is the plugin a Pulumi package needs: named and versioned by its
// pulumi-plugin.json, else by the distribution (pulumi-<name>, its version as semver). A package
// whose pulumi-plugin.json says resource: false, or whose version has no plugin equivalent, needs none.
func packageDependency(d distribution, meta *plugin.PulumiPluginJSON) (*pulumirpc.PackageDependency, error) {
	dep := &pulumirpc.PackageDependency{Kind: "resource"}
	if meta != nil {
		if !meta.Resource {
			return nil, nil
		}
		dep.Name, dep.Version, dep.Server = meta.Name, meta.Version, meta.Server
		if p := meta.Parameterization; p != nil {
			dep.Parameterization = &pulumirpc.PackageParameterization{Name: p.Name, Version: p.Version, Value: p.Value}
		}
		if p := meta.ExtensionParameterization; p != nil {
			dep.Extension = &pulumirpc.PackageParameterization{Name: p.Name, Version: p.Version, Value: p.Value}
		}
	}
	if dep.Name == "" {
		dep.Name = strings.TrimPrefix(d.Name, "pulumi-")
	}
	if dep.Version == "" {
		v, err := pluginVersion(d.Version)
		if err != nil {
			logging.V(5).Infof("no plugin version for %s %s: %v", d.Name, d.Version, err)
			return nil, nil
		}
		dep.Version = v
	}
	if !strings.HasPrefix(dep.Version, "v") {
		dep.Version = "v" + dep.Version
	}
	return dep, nil
}
