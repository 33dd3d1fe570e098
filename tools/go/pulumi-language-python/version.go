package main

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// A PEP 440 release without epoch or local part: N(.N)*[{a|b|rc}N][.postN][.devN].
var pep440 = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)*)(?:(a|b|rc)([0-9]+))?(?:\.post([0-9]+))?(?:\.dev([0-9]+))?$`)

// pluginVersion turns a Python package version into the version of the plugin it was released
// with: at least three release segments (1.0 -> 1.0.0), pre-releases as semver pre-releases
// (1.2.3a4 -> 1.2.3-alpha.4, b -> beta, rc -> rc), post and dev releases as build metadata
// (1.2.3.post4 -> 1.2.3+post4, 1.2.3.dev5 -> 1.2.3+dev5, both -> 1.2.3+post4dev5).
// Epochs, local versions and anything else have no plugin equivalent.
func pluginVersion(pkg string) (string, error) {
	if pkg == "" {
		return "", errors.New("empty version")
	}
	if strings.Contains(pkg, "!") {
		return "", errors.New("epochs are not supported")
	}
	m := pep440.FindStringSubmatch(pkg)
	if m == nil {
		return "", fmt.Errorf("%q is not a release version this host can map to a plugin version", pkg)
	}
	segments := strings.Split(m[1], ".")
	for len(segments) < 3 {
		segments = append(segments, "0")
	}
	out := strings.Join(segments, ".")
	switch m[2] {
	case "a":
		out += "-alpha." + m[3]
	case "b":
		out += "-beta." + m[3]
	case "rc":
		out += "-rc." + m[3]
	}
	build := ""
	if m[4] != "" {
		build += "post" + m[4]
	}
	if m[5] != "" {
		build += "dev" + m[5]
	}
	if build != "" {
		out += "+" + build
	}
	return out, nil
}
