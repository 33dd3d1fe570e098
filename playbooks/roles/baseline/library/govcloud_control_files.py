#!/usr/bin/python
# govcloud: the plain files of many baseline controls converged in one module call. As separate
# `template`, `file` and `lineinfile` loop items they cost the controller a remote stat and a
# `file` call per file and host (most of an idempotent re-run); here they are one call per host,
# with the same check mode, diff and owner, group, mode and SELinux handling (AnsibleModule's).
from __future__ import annotations

DOCUMENTATION = r"""
module: govcloud_control_files
short_description: Converge directories, whole files and key lines of configuration files in one call
description:
  - Applies O(paths) first (directories a file goes into), then O(files), then O(settings).
  - Supports check mode (reports what would change, changes nothing) and diff mode (one diff per changed file).
  - A file is written only when its content differs, through a temporary file in its directory and an atomic rename.
options:
  paths:
    description:
      - Paths whose state, owner, group and mode are set. O(paths[].state=file) requires an existing file
        (its owner, group and mode are set); V(directory) creates one; V(absent) removes the path.
      - A bare path stands for an existing file of mode 0644.
    type: list
    elements: raw
    default: []
    suboptions:
      path: {type: path, required: true, description: Absolute path.}
      state: {type: str, default: file, choices: [file, directory, absent], description: What the path must be.}
      owner: {type: str, description: Owner; left as it is when not given.}
      group: {type: str, description: Group; left as it is when not given.}
      mode: {type: raw, default: "0644", description: Mode (ignored for V(absent)).}
  files:
    description: Whole files and their content (rendered on the controller).
    type: list
    elements: dict
    default: []
    suboptions:
      dest: {type: path, required: true, description: Absolute path; its directory must exist.}
      content: {type: str, required: true, description: The whole content.}
      owner: {type: str, default: root, description: Owner.}
      group: {type: str, default: root, description: Group.}
      mode: {type: raw, default: "0644", description: Mode.}
  settings:
    description:
      - Lines of key-value files such as C(/etc/login.defs). The last line that sets O(settings[].key), or
        comments it out, becomes O(settings[].line) (as M(ansible.builtin.lineinfile) with
        C(regexp=^#?\\s*KEY(\\s|$)) does); the line is appended when no line does.
      - The settings of one file are applied together; its owner, group and mode are those of its first entry.
    type: list
    elements: dict
    default: []
    suboptions:
      path: {type: path, required: true, description: The file; it must exist.}
      key: {type: str, required: true, description: The setting's name.}
      line: {type: str, required: true, description: The whole line.}
      owner: {type: str, default: root, description: Owner of the file.}
      group: {type: str, default: root, description: Group of the file.}
      mode: {type: raw, default: "0644", description: Mode of the file.}
author: govcloud
"""

EXAMPLES = r"""
- name: Converge the banner, a drop-in directory and two login.defs settings
  govcloud_control_files:
    paths:
      - {path: /etc/systemd/coredump.conf.d, state: directory, owner: root, group: root, mode: "0755"}
    files:
      - {dest: /etc/issue, content: "Authorised use only.\n"}
    settings:
      - {path: /etc/login.defs, key: PASS_MIN_LEN, line: "PASS_MIN_LEN\t12"}
      - {path: /etc/login.defs, key: UMASK, line: "UMASK\t\t027"}
"""

RETURN = r"""
changed_paths:
  description: The paths that changed (or, in check mode, would change), sorted.
  returned: always
  type: list
  elements: str
"""

import os
import re
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.text.converters import to_bytes, to_text

PATH_SPEC = dict(
    path=dict(type="path", required=True),
    state=dict(type="str", default="file", choices=["file", "directory", "absent"]),
    owner=dict(type="str"),
    group=dict(type="str"),
    mode=dict(type="raw", default="0644"),
)
FILE_SPEC = dict(
    dest=dict(type="path", required=True),
    content=dict(type="str", required=True),
    owner=dict(type="str", default="root"),
    group=dict(type="str", default="root"),
    mode=dict(type="raw", default="0644"),
)
SETTING_SPEC = dict(
    path=dict(type="path", required=True),
    key=dict(type="str", required=True),
    line=dict(type="str", required=True),
    owner=dict(type="str", default="root"),
    group=dict(type="str", default="root"),
    mode=dict(type="raw", default="0644"),
)


class Converger:
    def __init__(self, module: AnsibleModule):
        self.module = module
        self.changed: set[str] = set()
        self.diffs: list[dict] = []
        self.planned_directories: set[str] = set()  # created in this call (check mode: would be)

    def attributes(self, path: str, owner, group, mode) -> None:
        """Owner, group, mode and the default SELinux context, as the file module sets them."""
        args = self.module.load_file_common_arguments({"owner": owner, "group": group, "mode": mode}, path=path)
        diff = {"before_header": path, "after_header": path, "before": {"path": path}, "after": {"path": path}}
        if self.module.set_fs_attributes_if_different(args, False, diff, expand=False):
            self.changed.add(path)
            if self.module._diff:
                self.diffs.append(diff)

    def path(self, entry: dict) -> None:
        path, state = entry["path"], entry["state"]
        if state == "absent":
            if os.path.lexists(path):
                self.changed.add(path)
                self.diffs.append({"before_header": path, "after_header": path, "before": {"path": path, "state": "present"},
                                   "after": {"path": path, "state": "absent"}})
                if not self.module.check_mode:
                    if os.path.isdir(path) and not os.path.islink(path):
                        shutil.rmtree(path)
                    else:
                        os.unlink(path)
            return
        if state == "directory":
            if not os.path.exists(path):
                self.changed.add(path)
                self.planned_directories.add(path)
                self.diffs.append({"before_header": path, "after_header": path, "before": {"path": path, "state": "absent"},
                                   "after": {"path": path, "state": "directory"}})
                if self.module.check_mode:
                    return
                os.makedirs(path)
            elif not os.path.isdir(path):
                self.module.fail_json(msg=f"{path} exists and is not a directory", changed_paths=sorted(self.changed))
        elif not os.path.isfile(path):
            self.module.fail_json(msg=f"{path} does not exist or is not a regular file", changed_paths=sorted(self.changed))
        self.attributes(path, entry["owner"], entry["group"], entry["mode"])

    def write(self, dest: str, content: bytes, before: bytes | None, owner, group, mode) -> None:
        """Write content to dest when it differs, then set its attributes."""
        if before != content:
            self.changed.add(dest)
            if self.module._diff:
                self.diffs.append({"before_header": dest, "after_header": dest,
                                   "before": to_text(before or b"", errors="surrogate_or_strict"),
                                   "after": to_text(content, errors="surrogate_or_strict")})
            if self.module.check_mode:
                if before is None:
                    return  # nothing to compare owner and mode with
            else:
                directory = os.path.dirname(dest)
                handle, temporary = tempfile.mkstemp(prefix=".govcloud-", dir=directory)
                try:
                    with os.fdopen(handle, "wb") as stream:
                        stream.write(content)
                    self.module.atomic_move(temporary, dest)
                finally:
                    if os.path.exists(temporary):
                        os.unlink(temporary)
        self.attributes(dest, owner, group, mode)

    def read(self, path: str) -> bytes | None:
        if not os.path.lexists(path):
            return None
        if not os.path.isfile(path):
            self.module.fail_json(msg=f"{path} exists and is not a regular file", changed_paths=sorted(self.changed))
        with open(path, "rb") as stream:
            return stream.read()

    def file(self, entry: dict) -> None:
        dest = entry["dest"]
        directory = os.path.dirname(dest)
        if not os.path.isdir(directory) and directory not in self.planned_directories:
            self.module.fail_json(msg=f"the directory of {dest} does not exist", changed_paths=sorted(self.changed))
        content = to_bytes(entry["content"], errors="surrogate_or_strict")
        self.write(dest, content, self.read(dest), entry["owner"], entry["group"], entry["mode"])

    def settings(self, path: str, entries: list[dict]) -> None:
        before = self.read(path)
        if before is None:
            self.module.fail_json(msg=f"{path} does not exist", changed_paths=sorted(self.changed))
        lines = before.splitlines(keepends=True)
        for entry in entries:
            key = re.compile(to_bytes(rf"^#?\s*{re.escape(entry['key'])}(\s|$)"))
            wanted = to_bytes(entry["line"]) + b"\n"
            found = [index for index, line in enumerate(lines) if key.search(line)]
            if found:
                lines[found[-1]] = wanted
            else:
                if lines and not lines[-1].endswith(b"\n"):
                    lines[-1] += b"\n"
                lines.append(wanted)
        self.write(path, b"".join(lines), before, entries[0]["owner"], entries[0]["group"], entries[0]["mode"])


def path_entry(module: AnsibleModule, entry) -> dict:
    """A paths entry validated against PATH_SPEC; a bare path is an existing file of mode 0644."""
    checked = ArgumentSpecValidator(PATH_SPEC).validate({"path": entry} if isinstance(entry, str) else entry)
    if checked.error_messages:
        module.fail_json(msg=f"paths entry {entry!r}: {'; '.join(checked.error_messages)}")
    return checked.validated_parameters


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            paths=dict(type="list", elements="raw", default=[]),
            files=dict(type="list", elements="dict", default=[], options=FILE_SPEC),
            settings=dict(type="list", elements="dict", default=[], options=SETTING_SPEC),
        ),
        supports_check_mode=True,
    )
    converger = Converger(module)
    for entry in module.params["paths"]:
        converger.path(path_entry(module, entry))
    for entry in module.params["files"]:
        converger.file(entry)
    by_file: dict[str, list[dict]] = {}
    for entry in module.params["settings"]:
        by_file.setdefault(entry["path"], []).append(entry)
    for path, entries in sorted(by_file.items()):
        converger.settings(path, entries)
    result = {"changed": bool(converger.changed), "changed_paths": sorted(converger.changed)}
    if module._diff:
        result["diff"] = converger.diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
