//! The kinds registry: everything TenantGate knows about a kind of policy is one entry of
//! [`KINDS`]. Normalisation, import, export and lint read these tables; no kind has a code path
//! of its own.

/// Microsoft Graph API version a collection is served from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Beta,
    V1,
}

impl Api {
    pub fn segment(self) -> &'static str {
        match self {
            Api::Beta => "beta",
            Api::V1 => "v1.0",
        }
    }
}

/// One Graph collection a kind is read from.
#[derive(Debug)]
pub struct Collection {
    /// Path below the API version, e.g. `deviceManagement/configurationPolicies`.
    pub path: &'static str,
    pub api: Api,
    /// `$expand` Graph needs to return the whole policy in one object.
    pub expand: &'static str,
    /// `$expand` a list request carries (what Graph expands on a collection).
    pub list_expand: &'static str,
    /// What the list leaves out: `Some(expand)` reads, per object, each navigation collection
    /// it names on its own (`{id}/settings`, `{id}/definitionValues?$expand=…` with the
    /// options in its parentheses), every page of it; `Some("")` reads the object by id
    /// (script bodies); `None`: the list response is the whole policy.
    pub item_expand: Option<&'static str>,
}

/// An array that is a set in Graph: its order carries no meaning, so it is sorted.
#[derive(Debug)]
pub struct SetArray {
    /// Pattern of the array (see [`super::pattern`]).
    pub path: &'static str,
    /// JSON pointers inside each element whose values, in order, form the sort key. Empty: the
    /// element itself is the key. Ties are broken by the element's canonical bytes.
    pub key: &'static [&'static str],
}

/// What a reference points at, and how it is spelled: `@group:<displayName>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RefTarget {
    Group,
    User,
    ScopeTag,
    Filter,
    NamedLocation,
    NotificationTemplate,
}

impl RefTarget {
    pub const ALL: [RefTarget; 6] = [
        RefTarget::Group,
        RefTarget::User,
        RefTarget::ScopeTag,
        RefTarget::Filter,
        RefTarget::NamedLocation,
        RefTarget::NotificationTemplate,
    ];

    /// The prefix word in `@<word>:<name>`.
    pub fn word(self) -> &'static str {
        match self {
            RefTarget::Group => "group",
            RefTarget::User => "user",
            RefTarget::ScopeTag => "scopeTag",
            RefTarget::Filter => "filter",
            RefTarget::NamedLocation => "namedLocation",
            RefTarget::NotificationTemplate => "notificationTemplate",
        }
    }

    /// Values that are the same in every tenant and stay as they are. The built-in scope tag
    /// `0` is handled apart: it becomes `@scopeTag:Default`.
    pub fn well_known(self) -> &'static [&'static str] {
        match self {
            RefTarget::User => &["All", "None", "GuestsOrExternalUsers"],
            RefTarget::NamedLocation => &["All", "AllTrusted"],
            RefTarget::NotificationTemplate => &["00000000-0000-0000-0000-000000000000"],
            RefTarget::Group | RefTarget::ScopeTag | RefTarget::Filter => &[],
        }
    }
}

/// A path holding tenant-specific ids that become symbolic references.
#[derive(Debug)]
pub struct RefPath {
    pub path: &'static str,
    pub target: RefTarget,
}

/// A path holding a secret that never reaches Git.
#[derive(Debug)]
pub struct SecretPath {
    pub path: &'static str,
    /// Only a secret when this sibling field is `true` (encrypted OMA-URI values).
    pub when_sibling_true: Option<&'static str>,
    /// For array elements: the element field naming it in the secret name, instead of the index.
    pub name_key: Option<&'static str>,
}

/// A base64 script or payload body stored decoded in a side file beside the policy.
#[derive(Debug)]
pub struct BodyField {
    pub field: &'static str,
    /// File suffix after the slug, e.g. `.ps1` or `.detection.ps1`.
    pub suffix: &'static str,
    /// Only for these root `@odata.type`s (without `#microsoft.graph.`); empty: always.
    pub only_types: &'static [&'static str],
}

/// One kind of policy.
#[derive(Debug)]
pub struct Kind {
    /// kebab-case name: folder name, config and rule `KINDS` value.
    pub name: &'static str,
    pub title: &'static str,
    pub collections: &'static [Collection],
    /// Field holding the display name (`name` for the settings catalog).
    pub name_field: &'static str,
    /// Derived root types (without `#microsoft.graph.`). Non-empty: the root keeps `@odata.type`.
    pub root_types: &'static [&'static str],
    /// The one non-derived root type, dropped from the canonical form (still used to detect).
    pub base_type: &'static str,
    /// Further patterns where a derived `@odata.type` is kept, as Graph's minimal metadata has it.
    pub keep_type: &'static [&'static str],
    /// Patterns of fields dropped as volatile, beyond [`COMMON_VOLATILE`].
    pub volatile: &'static [&'static str],
    /// When set, only these root fields are kept (groups: definitions, never members).
    pub keep_only: Option<&'static [&'static str]>,
    pub sets: &'static [SetArray],
    pub refs: &'static [RefPath],
    pub secrets: &'static [SecretPath],
    pub bodies: &'static [BodyField],
    /// Objects of this kind name directory entries other policies refer to.
    pub directory: Option<RefTarget>,
}

/// Root fields volatile in every kind.
pub const COMMON_VOLATILE: &[&str] = &[
    "/id",
    "/createdDateTime",
    "/lastModifiedDateTime",
    "/modifiedDateTime",
    "/deletedDateTime",
    "/version",
    "/isAssigned",
    "/supportsScopeTags",
    "/assignments/*/id",
    "/assignments/*/sourceId",
];

const ASSIGNMENT_SETS: &[SetArray] = &[
    SetArray {
        path: "/roleScopeTagIds",
        key: &[],
    },
    SetArray {
        path: "/assignments",
        key: &["/target/@odata.type", "/target/groupId"],
    },
];

const ASSIGNMENT_TYPES: &[&str] = &["/assignments/*/target"];

const ASSIGNMENT_REFS: &[RefPath] = &[
    RefPath {
        path: "/assignments/*/target/groupId",
        target: RefTarget::Group,
    },
    RefPath {
        path: "/assignments/*/target/deviceAndAppManagementAssignmentFilterId",
        target: RefTarget::Filter,
    },
    RefPath {
        path: "/roleScopeTagIds/*",
        target: RefTarget::ScopeTag,
    },
];

const fn kind(name: &'static str, title: &'static str) -> Kind {
    Kind {
        name,
        title,
        collections: &[],
        name_field: "displayName",
        root_types: &[],
        base_type: "",
        keep_type: ASSIGNMENT_TYPES,
        volatile: &[],
        keep_only: None,
        sets: ASSIGNMENT_SETS,
        refs: ASSIGNMENT_REFS,
        secrets: &[],
        bodies: &[],
        directory: None,
    }
}

pub static SETTINGS_CATALOG: Kind = Kind {
    collections: &[Collection {
        path: "deviceManagement/configurationPolicies",
        api: Api::Beta,
        expand: "settings,assignments",
        list_expand: "assignments",
        item_expand: Some("settings"),
    }],
    name_field: "name",
    base_type: "deviceManagementConfigurationPolicy",
    keep_type: &[
        "/assignments/*/target",
        "/settings/*/settingInstance",
        "/settings/**/children/*",
        "/settings/**/simpleSettingValue",
        "/settings/**/simpleSettingCollectionValue/*",
    ],
    volatile: &[
        "/settingCount",
        "/creationSource",
        "/priorityMetaData",
        "/settings/*/id",
    ],
    sets: &[
        SetArray {
            path: "/roleScopeTagIds",
            key: &[],
        },
        SetArray {
            path: "/assignments",
            key: &["/target/@odata.type", "/target/groupId"],
        },
        SetArray {
            path: "/settings",
            key: &["/settingInstance/settingDefinitionId"],
        },
        SetArray {
            path: "/settings/**/children",
            key: &["/settingDefinitionId"],
        },
    ],
    ..kind("settings-catalog", "Settings catalog")
};

pub static DEVICE_CONFIGURATIONS: Kind = Kind {
    collections: &[Collection {
        path: "deviceManagement/deviceConfigurations",
        api: Api::Beta,
        expand: "assignments",
        list_expand: "assignments",
        item_expand: None,
    }],
    root_types: &[
        "androidCustomConfiguration",
        "androidDeviceOwnerEnterpriseWiFiConfiguration",
        "androidDeviceOwnerGeneralDeviceConfiguration",
        "androidDeviceOwnerPkcsCertificateProfile",
        "androidDeviceOwnerScepCertificateProfile",
        "androidDeviceOwnerTrustedRootCertificate",
        "androidDeviceOwnerVpnConfiguration",
        "androidDeviceOwnerWiFiConfiguration",
        "androidEnterpriseWiFiConfiguration",
        "androidGeneralDeviceConfiguration",
        "androidWiFiConfiguration",
        "androidWorkProfileCustomConfiguration",
        "androidWorkProfileEnterpriseWiFiConfiguration",
        "androidWorkProfileGeneralDeviceConfiguration",
        "androidWorkProfileVpnConfiguration",
        "androidWorkProfileWiFiConfiguration",
        "editionUpgradeConfiguration",
        "iosCertificateProfile",
        "iosCustomConfiguration",
        "iosDeviceFeaturesConfiguration",
        "iosEasEmailProfileConfiguration",
        "iosEnterpriseWiFiConfiguration",
        "iosGeneralDeviceConfiguration",
        "iosPkcsCertificateProfile",
        "iosScepCertificateProfile",
        "iosTrustedRootCertificate",
        "iosUpdateConfiguration",
        "iosVpnConfiguration",
        "iosWiFiConfiguration",
        "macOSCustomConfiguration",
        "macOSCustomAppConfiguration",
        "macOSDeviceFeaturesConfiguration",
        "macOSEndpointProtectionConfiguration",
        "macOSEnterpriseWiFiConfiguration",
        "macOSExtensionsConfiguration",
        "macOSGeneralDeviceConfiguration",
        "macOSPkcsCertificateProfile",
        "macOSScepCertificateProfile",
        "macOSSoftwareUpdateConfiguration",
        "macOSTrustedRootCertificate",
        "macOSVpnConfiguration",
        "macOSWiFiConfiguration",
        "macOSWiredNetworkConfiguration",
        "sharedPCConfiguration",
        "windows10CustomConfiguration",
        "windows10DeviceFirmwareConfigurationInterface",
        "windows10EasEmailProfileConfiguration",
        "windows10EndpointProtectionConfiguration",
        "windows10EnterpriseModernAppManagementConfiguration",
        "windows10GeneralConfiguration",
        "windows10ImportedPFXCertificateProfile",
        "windows10NetworkBoundaryConfiguration",
        "windows10PkcsCertificateProfile",
        "windows10SecureAssessmentConfiguration",
        "windows10TeamGeneralConfiguration",
        "windows10VpnConfiguration",
        "windows81GeneralConfiguration",
        "windows81SCEPCertificateProfile",
        "windows81TrustedRootCertificate",
        "windows81VpnConfiguration",
        "windowsDefenderAdvancedThreatProtectionConfiguration",
        "windowsDeliveryOptimizationConfiguration",
        "windowsDomainJoinConfiguration",
        "windowsHealthMonitoringConfiguration",
        "windowsIdentityProtectionConfiguration",
        "windowsKioskConfiguration",
        "windowsPhone81CustomConfiguration",
        "windowsPhone81GeneralConfiguration",
        "windowsUpdateForBusinessConfiguration",
        "windowsWifiConfiguration",
        "windowsWifiEnterpriseEAPConfiguration",
        "windowsWiredNetworkConfiguration",
    ],
    base_type: "deviceConfiguration",
    keep_type: &[
        "/assignments/*/target",
        "/installationSchedule",
        "/omaSettings/*",
        "/compliantAppsList/*",
        "/appsSingleAppModeList/*",
        "/appsVisibilityList/*",
        "/edgeSearchEngine",
    ],
    volatile: &["/**/secretReferenceValueId", "/deviceSettingStateSummaries"],
    secrets: &[
        SecretPath {
            path: "/**/preSharedKey",
            when_sibling_true: None,
            name_key: None,
        },
        SecretPath {
            path: "/**/sharedSecret",
            when_sibling_true: None,
            name_key: None,
        },
        SecretPath {
            path: "/**/password",
            when_sibling_true: None,
            name_key: None,
        },
        SecretPath {
            path: "/**/certificatePassword",
            when_sibling_true: None,
            name_key: None,
        },
        SecretPath {
            path: "/**/pfxBlob",
            when_sibling_true: None,
            name_key: None,
        },
        SecretPath {
            path: "/**/privateKey",
            when_sibling_true: None,
            name_key: None,
        },
        SecretPath {
            path: "/omaSettings/*/value",
            when_sibling_true: Some("isEncrypted"),
            name_key: Some("omaUri"),
        },
    ],
    bodies: &[BodyField {
        field: "payload",
        suffix: ".mobileconfig",
        only_types: &["macOSCustomConfiguration", "iosCustomConfiguration"],
    }],
    ..kind("device-configurations", "Device configurations")
};

pub static COMPLIANCE_POLICIES: Kind = Kind {
    collections: &[Collection {
        path: "deviceManagement/deviceCompliancePolicies",
        api: Api::Beta,
        expand: "scheduledActionsForRule($expand=scheduledActionConfigurations),assignments",
        list_expand: "assignments",
        item_expand: Some("scheduledActionsForRule($expand=scheduledActionConfigurations)"),
    }],
    root_types: &[
        "androidCompliancePolicy",
        "androidDeviceOwnerCompliancePolicy",
        "androidForWorkCompliancePolicy",
        "androidWorkProfileCompliancePolicy",
        "aospDeviceOwnerCompliancePolicy",
        "iosCompliancePolicy",
        "macOSCompliancePolicy",
        "windows10CompliancePolicy",
        "windows10MobileCompliancePolicy",
        "windows81CompliancePolicy",
        "windowsPhone81CompliancePolicy",
    ],
    base_type: "deviceCompliancePolicy",
    volatile: &[
        "/scheduledActionsForRule/*/id",
        "/scheduledActionsForRule/*/scheduledActionConfigurations/*/id",
    ],
    sets: &[
        SetArray {
            path: "/roleScopeTagIds",
            key: &[],
        },
        SetArray {
            path: "/assignments",
            key: &["/target/@odata.type", "/target/groupId"],
        },
        SetArray {
            path: "/scheduledActionsForRule",
            key: &["/ruleName"],
        },
        SetArray {
            path: "/scheduledActionsForRule/*/scheduledActionConfigurations",
            key: &["/actionType", "/gracePeriodHours"],
        },
        SetArray {
            path: "/scheduledActionsForRule/*/scheduledActionConfigurations/*/notificationMessageCCList",
            key: &[],
        },
    ],
    refs: &[
        RefPath {
            path: "/assignments/*/target/groupId",
            target: RefTarget::Group,
        },
        RefPath {
            path: "/assignments/*/target/deviceAndAppManagementAssignmentFilterId",
            target: RefTarget::Filter,
        },
        RefPath {
            path: "/roleScopeTagIds/*",
            target: RefTarget::ScopeTag,
        },
        RefPath {
            path: "/scheduledActionsForRule/*/scheduledActionConfigurations/*/notificationTemplateId",
            target: RefTarget::NotificationTemplate,
        },
        RefPath {
            path: "/scheduledActionsForRule/*/scheduledActionConfigurations/*/notificationMessageCCList/*",
            target: RefTarget::Group,
        },
    ],
    ..kind("compliance-policies", "Compliance policies")
};

pub static CONDITIONAL_ACCESS: Kind = Kind {
    collections: &[Collection {
        path: "identity/conditionalAccess/policies",
        api: Api::V1,
        expand: "",
        list_expand: "",
        item_expand: None,
    }],
    base_type: "conditionalAccessPolicy",
    keep_type: &[],
    sets: &[
        SetArray {
            path: "/conditions/users/includeUsers",
            key: &[],
        },
        SetArray {
            path: "/conditions/users/excludeUsers",
            key: &[],
        },
        SetArray {
            path: "/conditions/users/includeGroups",
            key: &[],
        },
        SetArray {
            path: "/conditions/users/excludeGroups",
            key: &[],
        },
        SetArray {
            path: "/conditions/users/includeRoles",
            key: &[],
        },
        SetArray {
            path: "/conditions/users/excludeRoles",
            key: &[],
        },
        SetArray {
            path: "/conditions/applications/includeApplications",
            key: &[],
        },
        SetArray {
            path: "/conditions/applications/excludeApplications",
            key: &[],
        },
        SetArray {
            path: "/conditions/applications/includeUserActions",
            key: &[],
        },
        SetArray {
            path: "/conditions/locations/includeLocations",
            key: &[],
        },
        SetArray {
            path: "/conditions/locations/excludeLocations",
            key: &[],
        },
        SetArray {
            path: "/conditions/platforms/includePlatforms",
            key: &[],
        },
        SetArray {
            path: "/conditions/platforms/excludePlatforms",
            key: &[],
        },
        SetArray {
            path: "/conditions/clientAppTypes",
            key: &[],
        },
        SetArray {
            path: "/conditions/userRiskLevels",
            key: &[],
        },
        SetArray {
            path: "/conditions/signInRiskLevels",
            key: &[],
        },
        SetArray {
            path: "/grantControls/builtInControls",
            key: &[],
        },
    ],
    refs: &[
        RefPath {
            path: "/conditions/users/includeUsers/*",
            target: RefTarget::User,
        },
        RefPath {
            path: "/conditions/users/excludeUsers/*",
            target: RefTarget::User,
        },
        RefPath {
            path: "/conditions/users/includeGroups/*",
            target: RefTarget::Group,
        },
        RefPath {
            path: "/conditions/users/excludeGroups/*",
            target: RefTarget::Group,
        },
        RefPath {
            path: "/conditions/locations/includeLocations/*",
            target: RefTarget::NamedLocation,
        },
        RefPath {
            path: "/conditions/locations/excludeLocations/*",
            target: RefTarget::NamedLocation,
        },
    ],
    ..kind("conditional-access", "Conditional access")
};

pub static NAMED_LOCATIONS: Kind = Kind {
    collections: &[Collection {
        path: "identity/conditionalAccess/namedLocations",
        api: Api::V1,
        expand: "",
        list_expand: "",
        item_expand: None,
    }],
    root_types: &["countryNamedLocation", "ipNamedLocation"],
    base_type: "namedLocation",
    keep_type: &["/ipRanges/*"],
    sets: &[
        SetArray {
            path: "/countriesAndRegions",
            key: &[],
        },
        SetArray {
            path: "/ipRanges",
            key: &["/cidrAddress", "/lowerAddress"],
        },
    ],
    refs: &[],
    directory: Some(RefTarget::NamedLocation),
    ..kind("named-locations", "Named locations")
};

pub static APP_PROTECTION: Kind = Kind {
    collections: &[
        Collection {
            path: "deviceAppManagement/iosManagedAppProtections",
            api: Api::Beta,
            expand: "apps,assignments",
            list_expand: "assignments",
            item_expand: Some("apps"),
        },
        Collection {
            path: "deviceAppManagement/androidManagedAppProtections",
            api: Api::Beta,
            expand: "apps,assignments",
            list_expand: "assignments",
            item_expand: Some("apps"),
        },
        Collection {
            path: "deviceAppManagement/windowsManagedAppProtections",
            api: Api::Beta,
            expand: "apps,assignments",
            list_expand: "assignments",
            item_expand: Some("apps"),
        },
    ],
    root_types: &[
        "iosManagedAppProtection",
        "androidManagedAppProtection",
        "windowsManagedAppProtection",
    ],
    base_type: "managedAppProtection",
    keep_type: &["/assignments/*/target", "/apps/*/mobileAppIdentifier"],
    volatile: &["/apps/*/id", "/apps/*/version", "/deployedAppCount"],
    sets: &[
        SetArray {
            path: "/roleScopeTagIds",
            key: &[],
        },
        SetArray {
            path: "/assignments",
            key: &["/target/@odata.type", "/target/groupId"],
        },
        SetArray {
            path: "/apps",
            key: &[
                "/mobileAppIdentifier/bundleId",
                "/mobileAppIdentifier/packageId",
                "/mobileAppIdentifier/windowsAppId",
            ],
        },
    ],
    ..kind("app-protection", "App protection")
};

pub static POWERSHELL_SCRIPTS: Kind = Kind {
    collections: &[Collection {
        path: "deviceManagement/deviceManagementScripts",
        api: Api::Beta,
        expand: "assignments",
        list_expand: "assignments",
        item_expand: Some(""),
    }],
    base_type: "deviceManagementScript",
    bodies: &[BodyField {
        field: "scriptContent",
        suffix: ".ps1",
        only_types: &[],
    }],
    ..kind("powershell-scripts", "PowerShell scripts")
};

pub static SHELL_SCRIPTS: Kind = Kind {
    collections: &[Collection {
        path: "deviceManagement/deviceShellScripts",
        api: Api::Beta,
        expand: "assignments",
        list_expand: "assignments",
        item_expand: Some(""),
    }],
    base_type: "deviceShellScript",
    bodies: &[BodyField {
        field: "scriptContent",
        suffix: ".sh",
        only_types: &[],
    }],
    ..kind("shell-scripts", "Shell scripts")
};

pub static REMEDIATION_SCRIPTS: Kind = Kind {
    collections: &[Collection {
        path: "deviceManagement/deviceHealthScripts",
        api: Api::Beta,
        expand: "assignments",
        list_expand: "assignments",
        item_expand: Some(""),
    }],
    base_type: "deviceHealthScript",
    keep_type: &["/assignments/*/target", "/assignments/*/runSchedule"],
    volatile: &["/highestAvailableVersion"],
    bodies: &[
        BodyField {
            field: "detectionScriptContent",
            suffix: ".detection.ps1",
            only_types: &[],
        },
        BodyField {
            field: "remediationScriptContent",
            suffix: ".remediation.ps1",
            only_types: &[],
        },
    ],
    ..kind("remediation-scripts", "Remediation scripts")
};

pub static ASSIGNMENT_FILTERS: Kind = Kind {
    collections: &[Collection {
        path: "deviceManagement/assignmentFilters",
        api: Api::Beta,
        expand: "",
        list_expand: "",
        item_expand: None,
    }],
    base_type: "deviceAndAppManagementAssignmentFilter",
    keep_type: &[],
    volatile: &["/payloads"],
    sets: &[SetArray {
        path: "/roleScopeTags",
        key: &[],
    }],
    refs: &[RefPath {
        path: "/roleScopeTags/*",
        target: RefTarget::ScopeTag,
    }],
    directory: Some(RefTarget::Filter),
    ..kind("assignment-filters", "Assignment filters")
};

pub static SCOPE_TAGS: Kind = Kind {
    collections: &[Collection {
        path: "deviceManagement/roleScopeTags",
        api: Api::Beta,
        expand: "assignments",
        list_expand: "assignments",
        item_expand: None,
    }],
    base_type: "roleScopeTag",
    directory: Some(RefTarget::ScopeTag),
    ..kind("scope-tags", "Scope tags")
};

pub static ENROLLMENT_CONFIGURATIONS: Kind = Kind {
    collections: &[Collection {
        path: "deviceManagement/deviceEnrollmentConfigurations",
        api: Api::Beta,
        expand: "assignments",
        list_expand: "assignments",
        item_expand: None,
    }],
    root_types: &[
        "deviceComanagementAuthorityConfiguration",
        "deviceEnrollmentLimitConfiguration",
        "deviceEnrollmentNotificationConfiguration",
        "deviceEnrollmentPlatformRestrictionConfiguration",
        "deviceEnrollmentPlatformRestrictionsConfiguration",
        "deviceEnrollmentWindowsHelloForBusinessConfiguration",
        "windows10EnrollmentCompletionPageConfiguration",
        "windowsRestoreDeviceEnrollmentConfiguration",
    ],
    base_type: "deviceEnrollmentConfiguration",
    ..kind("enrollment-configurations", "Enrollment configurations")
};

pub static GROUP_POLICY: Kind = Kind {
    collections: &[Collection {
        path: "deviceManagement/groupPolicyConfigurations",
        api: Api::Beta,
        expand: "definitionValues($expand=definition,presentationValues($expand=presentation)),assignments",
        list_expand: "assignments",
        item_expand: Some(
            "definitionValues($expand=definition,presentationValues($expand=presentation))",
        ),
    }],
    base_type: "groupPolicyConfiguration",
    keep_type: &[
        "/assignments/*/target",
        "/definitionValues/*/presentationValues/*",
        "/definitionValues/*/presentationValues/*/presentation",
    ],
    volatile: &[
        "/definitionValues/*/id",
        "/definitionValues/*/createdDateTime",
        "/definitionValues/*/lastModifiedDateTime",
        "/definitionValues/*/presentationValues/*/id",
        "/definitionValues/*/presentationValues/*/createdDateTime",
        "/definitionValues/*/presentationValues/*/lastModifiedDateTime",
        "/definitionValues/**/lastModifiedDateTime",
        "/definitionValues/**/version",
        "/policyConfigurationIngestionType",
    ],
    sets: &[
        SetArray {
            path: "/roleScopeTagIds",
            key: &[],
        },
        SetArray {
            path: "/assignments",
            key: &["/target/@odata.type", "/target/groupId"],
        },
        SetArray {
            path: "/definitionValues",
            key: &["/definition/id"],
        },
        SetArray {
            path: "/definitionValues/*/presentationValues",
            key: &["/presentation/id"],
        },
    ],
    ..kind("group-policy", "Group policy (ADMX)")
};

pub static NOTIFICATION_TEMPLATES: Kind = Kind {
    collections: &[Collection {
        path: "deviceManagement/notificationMessageTemplates",
        api: Api::Beta,
        expand: "localizedNotificationMessages",
        list_expand: "",
        item_expand: Some("localizedNotificationMessages"),
    }],
    base_type: "notificationMessageTemplate",
    keep_type: &[],
    volatile: &[
        "/localizedNotificationMessages/*/id",
        "/localizedNotificationMessages/*/lastModifiedDateTime",
    ],
    sets: &[
        SetArray {
            path: "/roleScopeTagIds",
            key: &[],
        },
        SetArray {
            path: "/localizedNotificationMessages",
            key: &["/locale"],
        },
    ],
    refs: &[RefPath {
        path: "/roleScopeTagIds/*",
        target: RefTarget::ScopeTag,
    }],
    directory: Some(RefTarget::NotificationTemplate),
    ..kind("notification-templates", "Notification templates")
};

pub static GROUPS: Kind = Kind {
    collections: &[Collection {
        path: "groups",
        api: Api::V1,
        expand: "",
        list_expand: "",
        item_expand: None,
    }],
    base_type: "group",
    keep_type: &[],
    keep_only: Some(&[
        "displayName",
        "description",
        "groupTypes",
        "membershipRule",
        "membershipRuleProcessingState",
        "mailEnabled",
        "securityEnabled",
        "isAssignableToRole",
        "visibility",
    ]),
    sets: &[SetArray {
        path: "/groupTypes",
        key: &[],
    }],
    refs: &[],
    directory: Some(RefTarget::Group),
    ..kind("groups", "Groups (definitions only)")
};

/// Every kind, in the order reports list them.
pub static KINDS: &[&Kind] = &[
    &SETTINGS_CATALOG,
    &DEVICE_CONFIGURATIONS,
    &COMPLIANCE_POLICIES,
    &CONDITIONAL_ACCESS,
    &NAMED_LOCATIONS,
    &APP_PROTECTION,
    &POWERSHELL_SCRIPTS,
    &SHELL_SCRIPTS,
    &REMEDIATION_SCRIPTS,
    &ASSIGNMENT_FILTERS,
    &SCOPE_TAGS,
    &ENROLLMENT_CONFIGURATIONS,
    &GROUP_POLICY,
    &NOTIFICATION_TEMPLATES,
    &GROUPS,
];

/// Graph's namespace prefix on `@odata.type` values.
pub const GRAPH_TYPE_PREFIX: &str = "#microsoft.graph.";

/// The kind named `name` (kebab-case).
pub fn by_name(name: &str) -> Option<&'static Kind> {
    KINDS.iter().copied().find(|k| k.name == name)
}

/// An `@odata.type` without its namespace: `#microsoft.graph.x` and `microsoft.graph.x` give `x`.
pub fn short_type(type_name: &str) -> &str {
    type_name
        .strip_prefix(GRAPH_TYPE_PREFIX)
        .or_else(|| type_name.strip_prefix("microsoft.graph."))
        .unwrap_or(type_name)
}

/// The kind an `@odata.type` belongs to. `type_name` may carry the `#microsoft.graph.` prefix.
pub fn by_odata_type(type_name: &str) -> Option<&'static Kind> {
    let t = short_type(type_name);
    if let Some(k) = KINDS
        .iter()
        .copied()
        .find(|k| k.base_type == t || k.root_types.contains(&t))
    {
        return Some(k);
    }
    // Graph adds device configuration types every few months; they all end this way and no
    // other kind's type does.
    let looks_like_device_config = (t.ends_with("Configuration")
        || t.ends_with("CertificateProfile")
        || t.ends_with("TrustedRootCertificate"))
        && !t.contains("Enrollment")
        && !t.starts_with("deviceManagementConfiguration");
    looks_like_device_config.then_some(&DEVICE_CONFIGURATIONS)
}

/// The kind served by a Graph collection path such as `deviceManagement/configurationPolicies`.
pub fn by_collection(path: &str) -> Option<&'static Kind> {
    KINDS
        .iter()
        .copied()
        .find(|k| k.collections.iter().any(|c| c.path == path))
}

impl PartialEq for Kind {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Kind {}

impl Kind {
    /// Is `type_name` (without prefix) a derived root type of this kind?
    pub fn is_root_type(&self, type_name: &str) -> bool {
        self.root_types.contains(&type_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn kind_names_are_unique_kebab_case_and_cover_the_design() {
        let names: HashSet<_> = KINDS.iter().map(|k| k.name).collect();
        assert_eq!(names.len(), KINDS.len());
        for k in KINDS {
            assert!(
                k.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                k.name
            );
            assert!(!k.collections.is_empty(), "{} has no collection", k.name);
            assert!(!k.base_type.is_empty(), "{} has no base type", k.name);
        }
        for expected in [
            "settings-catalog",
            "device-configurations",
            "compliance-policies",
            "conditional-access",
            "named-locations",
            "app-protection",
            "powershell-scripts",
            "shell-scripts",
            "remediation-scripts",
            "assignment-filters",
            "scope-tags",
            "enrollment-configurations",
            "group-policy",
            "notification-templates",
            "groups",
        ] {
            assert!(names.contains(expected), "{expected} missing");
        }
    }

    #[test]
    fn types_and_collections_map_to_one_kind() {
        let mut seen = HashSet::new();
        for k in KINDS {
            for t in k.root_types.iter().chain(std::iter::once(&k.base_type)) {
                assert!(seen.insert(*t), "{t} listed twice");
                assert_eq!(by_odata_type(t).map(|k| k.name), Some(k.name), "{t}");
            }
            for c in k.collections {
                assert_eq!(by_collection(c.path).map(|k| k.name), Some(k.name));
            }
        }
        assert_eq!(
            by_odata_type("#microsoft.graph.windowsWifiConfiguration").map(|k| k.name),
            Some("device-configurations")
        );
        assert_eq!(
            by_odata_type("#microsoft.graph.someFutureVpnConfiguration").map(|k| k.name),
            Some("device-configurations")
        );
        assert!(by_odata_type("#microsoft.graph.deviceAndAppManagementRoleDefinition").is_none());
        assert!(by_odata_type("#microsoft.graph.user").is_none());
    }
}
