//! Export reads every collection whole however Graph pages it: collections expanded on list
//! items (`assignments@odata.nextLink`), collections nested in navigation items
//! (`presentationValues@odata.nextLink`), and settings whether Graph pages, returns whole or
//! silently cuts `$expand` on a read by id. Each is compared with the same tenant exported
//! from a simulator that pages nothing, and the requests with the simulator's stated bound.

mod common;

use common::graph::*;
use serde_json::{Value, json};
use tenantgate::sim::{ItemExpansion, SimConfig, Tenant};

/// DEV with an ADMX definition value of four presentation values and a compliance policy
/// with four scheduled action configurations, so nested paging has something to page.
fn nested_tenant() -> Tenant {
    let mut t = dev();
    let gp = t.coll_mut("deviceManagement/groupPolicyConfigurations");
    let id = gp.order[0].clone();
    let dvs = gp
        .objs
        .get_mut(&id)
        .unwrap()
        .navs
        .get_mut("definitionValues")
        .unwrap();
    let pvs = dvs[0]["presentationValues"].as_array_mut().unwrap();
    let first = pvs[0].clone();
    for i in 1..4 {
        let mut pv = first.clone();
        pv["id"] = json!(format!("08b769d3-616d-5619-bf99-4e0cc8b32bc{i}"));
        pv["value"] = json!(format!("https://intranet{i}.contoso-pharma.com/"));
        pvs.push(pv);
    }
    let cp = t.coll_mut("deviceManagement/deviceCompliancePolicies");
    let id = cp.order[0].clone();
    let rules = cp
        .objs
        .get_mut(&id)
        .unwrap()
        .navs
        .get_mut("scheduledActionsForRule")
        .unwrap();
    let configs = rules[0]["scheduledActionConfigurations"]
        .as_array_mut()
        .unwrap();
    let first = configs[0].clone();
    while configs.len() < 4 {
        let mut c = first.clone();
        c["id"] = json!(format!("sac-{}", configs.len()));
        c["gracePeriodHours"] = json!(24 * configs.len());
        configs.push(c);
    }
    t
}

fn reference(tenant: Tenant) -> Vec<(String, Vec<u8>)> {
    let (_s, r, files) = export_from(tenant, SimConfig::default());
    assert_eq!(r.code, 0, "{r:?}");
    assert!(files.len() > 70, "only {} files", files.len());
    files
}

fn bound(s: &tenantgate::sim::Running) -> u64 {
    s.sim.bound()["requests"].as_u64().unwrap()
}

#[test]
fn assignments_paged_on_list_items_are_read_whole() {
    let expected = reference(dev());
    let (s, r, files) = export_from(
        dev(),
        SimConfig {
            list_expansion_page_size: Some(1),
            ..SimConfig::default()
        },
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_same_files(&expected, &files);
    // A device configuration with three assignments needed two more pages of them.
    let plain = start(dev(), SimConfig::default());
    assert!(bound(&s) > bound(&plain));
    assert_eq!(stat(&s, "graph_requests"), bound(&s), "requests vs bound");
}

#[test]
fn collections_paged_inside_navigation_items_are_read_whole() {
    let expected = reference(nested_tenant());
    // The reference really holds what nested paging cuts.
    let gp = expected
        .iter()
        .find(|(p, _)| p.starts_with("tenants/dev/group-policy/"))
        .expect("an ADMX policy");
    let doc: Value = serde_json::from_slice(&gp.1).unwrap();
    assert_eq!(
        doc["definitionValues"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["presentationValues"].as_array().map_or(0, Vec::len))
            .max(),
        Some(4)
    );
    let (s, r, files) = export_from(
        nested_tenant(),
        SimConfig {
            nested_page_size: Some(1),
            nav_page_size: 2,
            ..SimConfig::default()
        },
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_same_files(&expected, &files);
    assert_eq!(stat(&s, "graph_requests"), bound(&s), "requests vs bound");
}

#[test]
fn settings_are_whole_whether_graph_pages_returns_whole_or_cuts_expand_on_a_read_by_id() {
    let expected = reference(dev());
    for mode in [
        ItemExpansion::Paged,
        ItemExpansion::Whole,
        ItemExpansion::Truncated,
    ] {
        let (s, r, files) = export_from(
            dev(),
            SimConfig {
                item_expansion: mode,
                nav_page_size: 5,
                ..SimConfig::default()
            },
        );
        assert_eq!(r.code, 0, "{mode:?}: {r:?}");
        assert_same_files(&expected, &files);
        // Reading /settings on its own costs what the cheapest way costs, except where Graph
        // would return an expansion whole in one read.
        if mode == ItemExpansion::Whole {
            assert!(stat(&s, "graph_requests") > bound(&s));
        } else {
            assert_eq!(stat(&s, "graph_requests"), bound(&s), "{mode:?}");
        }
    }
}

#[test]
fn every_kind_of_paging_at_once_reads_the_same_tenant_in_the_fewest_requests() {
    let expected = reference(nested_tenant());
    let (s, r, files) = export_from(
        nested_tenant(),
        SimConfig {
            page_size: 2,
            nav_page_size: 2,
            list_expansion_page_size: Some(1),
            nested_page_size: Some(1),
            ..SimConfig::default()
        },
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_same_files(&expected, &files);
    assert_eq!(stat(&s, "graph_requests"), bound(&s), "requests vs bound");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["requests"]["retries"], 0);
}
