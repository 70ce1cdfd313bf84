//! What an object is: a policy of some kind, a user, or something TenantGate does not manage,
//! from its `@odata.context`, its `@odata.type` and the folder it was found in.

use crate::policy::Kind;
use crate::policy::kinds;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detected {
    Kind(&'static Kind),
    User,
    /// Not something TenantGate manages; the reason says what it is.
    NotManaged(String),
    /// A sub-resource list (the settings of one policy), not policies.
    SubResource(String),
}

/// The collection path an `@odata.context` names, and whether it names a sub-resource of one
/// object. `https://graph.microsoft.com/beta/$metadata#deviceManagement/configurationPolicies/$entity`
/// gives `deviceManagement/configurationPolicies`.
pub fn context_collection(context: &str) -> Option<(String, bool)> {
    let (_, frag) = context.split_once("$metadata#")?;
    let frag = frag.strip_suffix("/$entity").unwrap_or(frag);
    let mut out = String::with_capacity(frag.len());
    let mut depth = 0usize;
    let mut sub_resource = false;
    let mut after_key = false;
    for c in frag.chars() {
        match c {
            '(' => {
                depth += 1;
                after_key = true;
            }
            ')' => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            '/' if after_key => {
                sub_resource = true;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    // `(settings())` style expansions carry no key; `('id')` does. Either way, anything after a
    // parenthesised key is a sub-resource.
    let collection = out.trim_end_matches('/').to_string();
    if sub_resource {
        // Keep only the part before the key for the message.
        return Some((collection, true));
    }
    Some((collection, false))
}

/// Classify an object. `list_context` is the context of the list response holding it.
pub fn detect(
    own_context: Option<&str>,
    list_context: Option<&str>,
    odata_type: Option<&str>,
    hint: Option<&'static Kind>,
) -> Detected {
    for ctx in [own_context, list_context].into_iter().flatten() {
        if let Some((collection, sub)) = context_collection(ctx) {
            if sub {
                return Detected::SubResource(collection);
            }
            if collection == "users" {
                return Detected::User;
            }
            if let Some(k) = kinds::by_collection(&collection) {
                return Detected::Kind(k);
            }
            if odata_type.is_none() && hint.is_none() {
                return Detected::NotManaged(format!(
                    "@odata.context names {collection}, which TenantGate does not manage"
                ));
            }
        }
    }
    if let Some(t) = odata_type {
        if kinds::short_type(t) == "user" {
            return Detected::User;
        }
        if let Some(k) = kinds::by_odata_type(t) {
            return Detected::Kind(k);
        }
        // Graph adds derived types often: in a folder of a kind with derived types, an unknown
        // one is most likely a new type of that kind, not something to drop.
        if let Some(k) = hint.filter(|k| !k.root_types.is_empty()) {
            return Detected::Kind(k);
        }
        return Detected::NotManaged(format!("@odata.type {t} is not a kind TenantGate manages"));
    }
    match hint {
        Some(k) => Detected::Kind(k),
        None => Detected::NotManaged(
            "no @odata.type or @odata.context says what this object is".to_string(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_name_collections_and_sub_resources() {
        let base = "https://graph.microsoft.com/beta/$metadata#";
        assert_eq!(
            context_collection(&format!(
                "{base}deviceManagement/configurationPolicies/$entity"
            )),
            Some(("deviceManagement/configurationPolicies".into(), false))
        );
        assert_eq!(
            context_collection(&format!("{base}deviceManagement/configurationPolicies")),
            Some(("deviceManagement/configurationPolicies".into(), false))
        );
        assert_eq!(
            context_collection(&format!(
                "{base}deviceManagement/configurationPolicies(settings())/$entity"
            )),
            Some(("deviceManagement/configurationPolicies".into(), false))
        );
        assert_eq!(
            context_collection(&format!(
                "{base}deviceManagement/configurationPolicies('abc')/settings"
            )),
            Some((
                "deviceManagement/configurationPolicies/settings".into(),
                true
            ))
        );
        assert_eq!(context_collection("no metadata here"), None);
    }

    #[test]
    fn detection_prefers_context_then_type_then_folder() {
        let ctx = "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies/$entity";
        assert_eq!(
            detect(Some(ctx), None, None, None),
            Detected::Kind(&kinds::CONDITIONAL_ACCESS)
        );
        assert_eq!(
            detect(
                None,
                None,
                Some("#microsoft.graph.iosManagedAppProtection"),
                None
            ),
            Detected::Kind(&kinds::APP_PROTECTION)
        );
        assert_eq!(
            detect(None, None, None, Some(&kinds::GROUPS)),
            Detected::Kind(&kinds::GROUPS)
        );
        assert!(matches!(
            detect(
                None,
                None,
                Some("#microsoft.graph.deviceAndAppManagementRoleDefinition"),
                None
            ),
            Detected::NotManaged(_)
        ));
        assert!(matches!(
            detect(None, None, None, None),
            Detected::NotManaged(_)
        ));
        assert_eq!(
            detect(
                Some("https://graph.microsoft.com/v1.0/$metadata#users"),
                None,
                None,
                None
            ),
            Detected::User
        );
    }
}
