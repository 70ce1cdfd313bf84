#!/usr/bin/env python3
"""Validate the seed tenants written by generate.py (no third-party dependencies).

Checks: valid JSON, UTF-8 without BOM, context URLs, ids, base64 payloads, cross references
(groups, users, filters, named locations, notification templates, scope tags), the settings
catalog @odata.type rules, DEV/PROD id separation, and prints the count table plus the
semantic differences between DEV and PROD. Exit status 1 on any failure.
"""
import base64
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
WELL_KNOWN_TARGET_IDS = {"adadadad-808e-44e2-905a-0b7873a8a531", "acacacac-9df4-4c7d-9d50-4ef0226f57a9"}

# folder -> (context collection, graph version, kind label, is a policy kind)
COLLECTIONS = {
    "configurationPolicies": ("deviceManagement/configurationPolicies", "beta", "1 settings-catalog", True),
    "deviceConfigurations": ("deviceManagement/deviceConfigurations", "beta", "2 device-configurations", True),
    "deviceCompliancePolicies": ("deviceManagement/deviceCompliancePolicies", "beta", "3 compliance-policies", True),
    "policies": ("identity/conditionalAccess/policies", "v1.0", "4 conditional-access", True),
    "namedLocations": ("identity/conditionalAccess/namedLocations", "v1.0", "5 named-locations", True),
    "iosManagedAppProtections": ("deviceAppManagement/iosManagedAppProtections", "beta", "6 app-protection", True),
    "androidManagedAppProtections": ("deviceAppManagement/androidManagedAppProtections", "beta", "6 app-protection", True),
    "deviceManagementScripts": ("deviceManagement/deviceManagementScripts", "beta", "7 powershell-scripts", True),
    "deviceShellScripts": ("deviceManagement/deviceShellScripts", "beta", "8 shell-scripts", True),
    "deviceHealthScripts": ("deviceManagement/deviceHealthScripts", "beta", "9 remediation-scripts", True),
    "assignmentFilters": ("deviceManagement/assignmentFilters", "beta", "10 assignment-filters", True),
    "roleScopeTags": ("deviceManagement/roleScopeTags", "beta", "11 scope-tags", True),
    "deviceEnrollmentConfigurations": ("deviceManagement/deviceEnrollmentConfigurations", "beta", "12 enrollment-configurations", True),
    "groupPolicyConfigurations": ("deviceManagement/groupPolicyConfigurations", "beta", "13 group-policy", True),
    "notificationMessageTemplates": ("deviceManagement/notificationMessageTemplates", "beta", "14 notification-templates", True),
    "groups": ("groups", "v1.0", "15 groups (directory)", False),
    "users": ("users", "v1.0", "16 users (directory)", False),
}
ROOT_ODATA_TYPE = {"deviceConfigurations", "deviceCompliancePolicies", "namedLocations", "iosManagedAppProtections",
                   "androidManagedAppProtections", "deviceEnrollmentConfigurations"}

errors = []


def err(msg):
    errors.append(msg)


def load_tenant(env):
    """Returns {folder: [(path, object), ...]}"""
    out = {}
    root = os.path.join(HERE, env)
    for folder in sorted(os.listdir(root)):
        if folder not in COLLECTIONS:
            err("%s: unknown folder %s" % (env, folder))
            continue
        coll, ver, _, _ = COLLECTIONS[folder]
        base = "https://graph.microsoft.com/%s/$metadata#%s" % (ver, coll)
        for fn in sorted(os.listdir(os.path.join(root, folder))):
            p = os.path.join(root, folder, fn)
            rel = os.path.relpath(p, HERE)
            raw = open(p, "rb").read()
            if raw.startswith(b"\xef\xbb\xbf"):
                err("%s: has a BOM" % rel)
            try:
                doc = json.loads(raw.decode("utf-8"))
            except Exception as e:  # noqa
                err("%s: invalid UTF-8/JSON: %s" % (rel, e))
                continue
            ctx = doc.get("@odata.context")
            if "value" in doc:
                if ctx != base:
                    err("%s: list context %r != %r" % (rel, ctx, base))
                objs = doc["value"]
            else:
                if ctx != base + "/$entity":
                    err("%s: entity context %r != %r" % (rel, ctx, base + "/$entity"))
                objs = [doc]
            for o in objs:
                out.setdefault(folder, []).append((rel, o))
    return out


def name_of(o):
    return o.get("displayName") or o.get("name")


def walk(o, fn, path=""):
    fn(o, path)
    if isinstance(o, dict):
        for k, v in o.items():
            walk(v, fn, path + "/" + k)
    elif isinstance(o, list):
        for i, v in enumerate(o):
            walk(v, fn, path + "/" + str(i))


def check_b64(rel, field, value):
    try:
        return base64.b64decode(value, validate=True)
    except Exception as e:  # noqa
        err("%s: %s is not valid base64: %s" % (rel, field, e))
        return b""


def check_settings(rel, insts, depth=0):
    for si in insts:
        if "@odata.type" not in si:
            err("%s: setting instance without @odata.type: %s" % (rel, si.get("settingDefinitionId")))
        if "choiceSettingValue" in si:
            v = si["choiceSettingValue"]
            if "@odata.type" in v:
                err("%s: choiceSettingValue has @odata.type" % rel)
            check_settings(rel, v["children"], depth + 1)
        if "choiceSettingCollectionValue" in si:
            for v in si["choiceSettingCollectionValue"]:
                check_settings(rel, v["children"], depth + 1)
        if "simpleSettingValue" in si and "@odata.type" not in si["simpleSettingValue"]:
            err("%s: simpleSettingValue without @odata.type" % rel)
        for v in si.get("simpleSettingCollectionValue", []):
            if "@odata.type" not in v:
                err("%s: simpleSettingCollectionValue item without @odata.type" % rel)
        for v in si.get("groupSettingCollectionValue", []):
            if "@odata.type" in v:
                err("%s: groupSettingCollectionValue item has @odata.type" % rel)
            check_settings(rel, v["children"], depth + 1)


def validate_tenant(env, t):
    ids = {}
    groups = {g["id"]: g["displayName"] for _, g in t.get("groups", [])}
    users = {u["id"]: u["userPrincipalName"] for _, u in t.get("users", [])}
    filters = {f["id"]: f["displayName"] for _, f in t.get("assignmentFilters", [])}
    locations = {l["id"]: l["displayName"] for _, l in t.get("namedLocations", [])}
    templates = {n["id"]: n["displayName"] for _, n in t.get("notificationMessageTemplates", [])}
    stags = {s["id"]: s["displayName"] for _, s in t.get("roleScopeTags", [])}
    dangling = []

    def ref_group(rel, g, where):
        if g not in groups:
            dangling.append((rel, where, g))

    for folder, items in t.items():
        for rel, o in items:
            oid = o.get("id")
            if folder == "roleScopeTags":
                if not re.match(r"^\d+$", str(oid)):
                    err("%s: scope tag id %r" % (rel, oid))
            elif not (isinstance(oid, str) and GUID.match(oid)):
                err("%s: id %r is not a GUID" % (rel, oid))
            ids[oid] = (folder, name_of(o))
            if folder in ROOT_ODATA_TYPE and "@odata.type" not in o:
                err("%s: root @odata.type missing" % rel)
            if folder == "policies" and "@odata.type" in o:
                err("%s: CA policy has a root @odata.type" % rel)
            stamp_keys = {"policies": ("createdDateTime", "modifiedDateTime"),
                          "namedLocations": ("createdDateTime", "modifiedDateTime"),
                          "groups": ("createdDateTime",), "users": (), "roleScopeTags": (),
                          "notificationMessageTemplates": ("lastModifiedDateTime",)}.get(
                folder, ("createdDateTime", "lastModifiedDateTime"))
            for k in stamp_keys:
                if not o.get(k):
                    err("%s: missing %s" % (rel, k))
            for k in ("roleScopeTagIds", "roleScopeTags"):
                for tag in o.get(k, []) or []:
                    if tag not in stags:
                        err("%s: unknown scope tag %r" % (rel, tag))
            for a in o.get("assignments", []) or []:
                tg = a["target"]
                if "@odata.type" not in tg:
                    err("%s: assignment target without @odata.type" % rel)
                if "groupId" in tg:
                    ref_group(rel, tg["groupId"], "assignment")
                    if not a["id"].endswith(tg["groupId"]):
                        err("%s: assignment id %s does not end with group id" % (rel, a["id"]))
                fid = tg.get("deviceAndAppManagementAssignmentFilterId")
                if fid is not None and fid not in filters:
                    err("%s: unknown filter %s" % (rel, fid))
                if (fid is None) != (tg.get("deviceAndAppManagementAssignmentFilterType") == "none"):
                    err("%s: filter id/type mismatch" % rel)
            if folder == "configurationPolicies":
                if "displayName" in o:
                    err("%s: settings catalog uses displayName" % rel)
                if o["settingCount"] != len(o["settings"]):
                    err("%s: settingCount %d != %d" % (rel, o["settingCount"], len(o["settings"])))
                for n, s in enumerate(o["settings"]):
                    if s["id"] != str(n):
                        err("%s: setting id %s" % (rel, s["id"]))
                check_settings(rel, [s["settingInstance"] for s in o["settings"]])
                if o["isAssigned"] != bool(o["assignments"]):
                    err("%s: isAssigned mismatch" % rel)
            if folder == "deviceCompliancePolicies":
                for r in o["scheduledActionsForRule"]:
                    for c in r["scheduledActionConfigurations"]:
                        tid = c["notificationTemplateId"]
                        if tid != "00000000-0000-0000-0000-000000000000" and tid not in templates:
                            err("%s: unknown notification template %s" % (rel, tid))
                        for g in c["notificationMessageCCList"]:
                            ref_group(rel, g, "notificationMessageCCList")
            if folder == "policies":
                u = o["conditions"]["users"]
                for k in ("includeUsers", "excludeUsers"):
                    for x in u[k]:
                        if x not in ("All", "None", "GuestsOrExternalUsers") and x not in users:
                            err("%s: unknown user %s in %s" % (rel, x, k))
                for k in ("includeGroups", "excludeGroups"):
                    for g in u[k]:
                        ref_group(rel, g, k)
                loc = o["conditions"].get("locations")
                if loc:
                    for k in ("includeLocations", "excludeLocations"):
                        for x in loc[k]:
                            if x not in ("All", "AllTrusted") and x not in locations:
                                err("%s: unknown named location %s" % (rel, x))
            if folder in ("deviceManagementScripts", "deviceShellScripts"):
                check_b64(rel, "scriptContent", o["scriptContent"])
            if folder == "deviceHealthScripts":
                check_b64(rel, "detectionScriptContent", o["detectionScriptContent"])
                check_b64(rel, "remediationScriptContent", o["remediationScriptContent"])
            if folder == "deviceConfigurations":
                if "payload" in o:
                    check_b64(rel, "payload", o["payload"])
                for s in o.get("omaSettings", []):
                    if s.get("isEncrypted"):
                        check_b64(rel, "omaSettings value", s["value"])
                        if not GUID.match(s.get("secretReferenceValueId") or ""):
                            err("%s: encrypted OMA setting without secretReferenceValueId" % rel)
    return ids, dangling


def strip_volatile(o, idmap):
    """A rough canonical form for comparing DEV and PROD: drops volatile fields and secrets and
    replaces tenant ids by names."""
    drop = {"id", "createdDateTime", "lastModifiedDateTime", "modifiedDateTime", "version", "@odata.context",
            "renewedDateTime", "securityIdentifier", "mailNickname", "sourceId", "secretReferenceValueId",
            "preSharedKey", "localizedNotificationMessages@odata.context", "mail", "proxyAddresses"}
    if isinstance(o, dict):
        r = {}
        for k, v in o.items():
            if k in drop:
                continue
            if k == "value" and o.get("isEncrypted"):
                continue
            if k in ("roleScopeTagIds", "roleScopeTags"):
                r[k] = ["@" + idmap.get("tag:" + x, x) for x in v]
                continue
            r[k] = strip_volatile(v, idmap)
        return r
    if isinstance(o, list):
        return [strip_volatile(x, idmap) for x in o]
    if isinstance(o, str):
        if o in idmap:
            return "@" + idmap[o]
        if o.endswith("onmicrosoft.com"):
            return o.split("@")[0] + "@<tenant>"
    return o


def diff(a, b, path=""):
    out = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a:
                out.append("%s/%s: only in PROD" % (path, k))
            elif k not in b:
                out.append("%s/%s: only in DEV" % (path, k))
            else:
                out += diff(a[k], b[k], path + "/" + k)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            out += diff(x, y, path + "/" + str(i))
    elif a != b:
        sa, sb = json.dumps(a), json.dumps(b)
        out.append("%s: DEV %s | PROD %s" % (path, sa[:90], sb[:90]))
    return out


def main():
    tenants = {env: load_tenant(env) for env in ("dev", "prod")}
    all_ids = {}
    all_dangling = []
    for env, t in tenants.items():
        ids, dangling = validate_tenant(env, t)
        all_ids[env] = ids
        all_dangling += [(env,) + d for d in dangling]
    # script bodies: encodings and line endings
    for env in ("dev",):
        for folder, fields in (("deviceManagementScripts", ("scriptContent",)), ("deviceShellScripts", ("scriptContent",)),
                               ("deviceHealthScripts", ("detectionScriptContent", "remediationScriptContent"))):
            for rel, o in tenants[env].get(folder, []):
                for f in fields:
                    raw = base64.b64decode(o[f])
                    raw.decode("utf-8")
                    print("script %-45s %-24s %4d bytes  BOM=%-5s CRLF=%-5s lines=%d" % (
                        rel, f, len(raw), raw.startswith(b"\xef\xbb\xbf"), b"\r\n" in raw, raw.count(b"\n")))
    # exactly one dangling group reference, in DEV
    if len(all_dangling) != 1 or all_dangling[0][0] != "dev":
        err("expected exactly one dangling group reference in DEV, got %r" % all_dangling)

    # DEV and PROD ids must differ (scope tag ids are small integers and may coincide)
    shared = {i for i in set(all_ids["dev"]) & set(all_ids["prod"]) if all_ids["dev"][i][0] != "roleScopeTags"}
    if shared:
        err("ids shared between DEV and PROD: %s" % sorted(shared))

    # count table
    print("%-32s %5s %5s" % ("kind", "DEV", "PROD"))
    totals = {"dev": 0, "prod": 0}
    kinds = {"dev": set(), "prod": set()}
    labels = sorted({v[2] for v in COLLECTIONS.values()}, key=lambda s: int(s.split()[0]))
    for label in labels:
        row = []
        for env in ("dev", "prod"):
            n = sum(len(tenants[env].get(f, [])) for f, v in COLLECTIONS.items() if v[2] == label)
            row.append(n)
            if any(v[3] for f, v in COLLECTIONS.items() if v[2] == label):
                totals[env] += n
                if n:
                    kinds[env].add(label)
        print("%-32s %5d %5d" % (label, row[0], row[1]))
    print("%-32s %5d %5d" % ("policies (kinds 1-14)", totals["dev"], totals["prod"]))
    print("%-32s %5d %5d" % ("policy kinds present", len(kinds["dev"]), len(kinds["prod"])))
    for env in ("dev", "prod"):
        if totals[env] < 40 or len(kinds[env]) < 8:
            err("%s: not enough policies/kinds" % env)
    sc_big = [name_of(o) for _, o in tenants["dev"]["configurationPolicies"] if o["settingCount"] >= 30]
    print("settings catalog policies with 30+ settings:", ", ".join(sc_big))

    # size
    size = 0
    for dp, _, fns in os.walk(HERE):
        for fn in fns:
            size += os.path.getsize(os.path.join(dp, fn))
    print("total size of examples/tenants: %d bytes" % size)
    if size >= 2 * 1024 * 1024:
        err("examples/tenants is larger than 2 MB")

    # dangling
    for env, rel, where, g in all_dangling:
        print("dangling group reference (%s): %s %s -> %s" % (env, rel, where, g))

    # semantic DEV vs PROD differences
    print("\nDEV vs PROD (ids mapped to names, volatile fields and secrets dropped):")
    for folder in COLLECTIONS:
        d = {name_of(o) or o.get("userPrincipalName", "").split("@")[0]: o for _, o in tenants["dev"].get(folder, [])}
        p = {name_of(o) or o.get("userPrincipalName", "").split("@")[0]: o for _, o in tenants["prod"].get(folder, [])}
        for n in sorted(set(d) | set(p)):
            if n not in p:
                print("  %s/%s: only in DEV" % (folder, n))
            elif n not in d:
                print("  %s/%s: only in PROD" % (folder, n))
            else:
                idm_d, idm_p = ({("tag:" if v[0] == "roleScopeTags" else "") + k: "%s:%s" % v
                                 for k, v in all_ids[e].items()} for e in ("dev", "prod"))
                for line in diff(strip_volatile(d[n], idm_d), strip_volatile(p[n], idm_p)):
                    print("  %s/%s%s" % (folder, n, line))

    if errors:
        print("\nFAILED:")
        for e in errors:
            print("  " + e)
        sys.exit(1)
    print("\nOK")


if __name__ == "__main__":
    main()
