#!/usr/bin/env python3
"""Generate the simulated Contoso Pharma DEV and PROD tenants as Microsoft Graph responses.

Run:  python3 examples/tenants/generate.py
It rewrites examples/tenants/dev/ and examples/tenants/prod/ (and nothing else). The output is
deterministic: every id is a uuid5 derived from (tenant, kind, name), every timestamp is derived
from a hash of the same, so running it twice gives byte-identical files.

Everything here is fictional and hand-written, except the settings-catalog setting instances
(SC_SRC below) and the property sets of a few other objects, which were derived from the IntuneCD
backup in ennnbeee/CES2026-IntuneCD @ a05355a6 (MIT, Copyright (c) 2025 Nick Benton); see
README.md for the licence notice.
"""
import base64
import datetime
import hashlib
import json
import os
import re
import shutil
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
BETA = "https://graph.microsoft.com/beta/$metadata#"
V1 = "https://graph.microsoft.com/v1.0/$metadata#"
NS = uuid.UUID("6f1c1d1e-2b1a-4c52-9a43-7c0a3e0f7a11")  # fixed namespace of this seed
NOW = datetime.datetime(2026, 1, 20, 9, 0, 0)

# --------------------------------------------------------------------------------------------
# settings-catalog setting instance helpers (shapes as Graph beta returns them)
# --------------------------------------------------------------------------------------------
_CHOICE = "#microsoft.graph.deviceManagementConfigurationChoiceSettingInstance"
_CHOICECOL = "#microsoft.graph.deviceManagementConfigurationChoiceSettingCollectionInstance"
_SIMPLE = "#microsoft.graph.deviceManagementConfigurationSimpleSettingInstance"
_SIMPLECOL = "#microsoft.graph.deviceManagementConfigurationSimpleSettingCollectionInstance"
_GROUPCOL = "#microsoft.graph.deviceManagementConfigurationGroupSettingCollectionInstance"
_INT = "#microsoft.graph.deviceManagementConfigurationIntegerSettingValue"
_STR = "#microsoft.graph.deviceManagementConfigurationStringSettingValue"


def _tref(t):
    return {"settingInstanceTemplateId": t} if t else None


def _vref(vt):
    if vt is None:
        return None
    if isinstance(vt, tuple):
        return {"settingValueTemplateId": vt[0], "useTemplateDefault": vt[1]}
    return {"settingValueTemplateId": vt, "useTemplateDefault": False}


def _val(d, v):
    # shorthand: a choice value starting with "_" is appended to its setting definition id
    return d + v if isinstance(v, str) and v.startswith("_") else v


def _inst(odt, d, t, key, value):
    return {"@odata.type": odt, "settingDefinitionId": d, "auditRuleInformation": None,
            "settingInstanceTemplateReference": _tref(t), key: value}


def C(d, v, ch=None, t=None, vt=None):
    """Choice setting instance (choiceSettingValue carries no @odata.type)."""
    return _inst(_CHOICE, d, t, "choiceSettingValue",
                 {"settingValueTemplateReference": _vref(vt), "value": _val(d, v),
                  "children": list(ch or [])})


def V(v, ch=None, vt=None):
    return (v, ch, vt)


def CC(d, items, t=None):
    return _inst(_CHOICECOL, d, t, "choiceSettingCollectionValue",
                 [{"settingValueTemplateReference": _vref(vt), "value": _val(d, v),
                   "children": list(ch or [])} for (v, ch, vt) in items])


def I(d, n, t=None, vt=None):
    return _inst(_SIMPLE, d, t, "simpleSettingValue",
                 {"@odata.type": _INT, "settingValueTemplateReference": _vref(vt), "value": n})


def S(d, s, t=None, vt=None):
    return _inst(_SIMPLE, d, t, "simpleSettingValue",
                 {"@odata.type": _STR, "settingValueTemplateReference": _vref(vt), "value": s})


def IV(n, vt=None):
    return {"@odata.type": _INT, "settingValueTemplateReference": _vref(vt), "value": n}


def SV(s, vt=None):
    return {"@odata.type": _STR, "settingValueTemplateReference": _vref(vt), "value": s}


def SC(d, items, t=None):
    return _inst(_SIMPLECOL, d, t, "simpleSettingCollectionValue", list(items))


def GV(children, vt=None):
    """groupSettingCollectionValue item (no @odata.type)."""
    return {"settingValueTemplateReference": _vref(vt), "children": list(children)}


def G(d, items, t=None):
    return _inst(_GROUPCOL, d, t, "groupSettingCollectionValue", list(items))


# --------------------------------------------------------------------------------------------
# Setting instances derived from the IntuneCD backup in ennnbeee/CES2026-IntuneCD @ a05355a6
# (MIT, Copyright (c) 2025 Nick Benton), folder "Backup/Settings Catalog/"; the source file is
# named above each list.
# Only two string values were changed (renamed local admin / guest account names).
# --------------------------------------------------------------------------------------------
SC_SRC = {}

# defender-av <- CES2026-IntuneCD: Backup/Settings Catalog/POC_WIN_D_CO_SBL_CIS_MS_Defender_Antivirus_mdm.json
SC_SRC['defender-av'] = [
  C('device_vendor_msft_policy_config_admx_microsoftdefenderantivirus_spynet_localsettingoverridespynetreporting', '_0'),
  C('device_vendor_msft_policy_config_admx_microsoftdefenderantivirus_disableblockatfirstseen', '_1'),
  C('device_vendor_msft_policy_config_admx_microsoftdefenderantivirus_realtimeprotection_disablescanonrealtimeenable', '_1'),
  C('device_vendor_msft_policy_config_admx_microsoftdefenderantivirus_scan_disablepackedexescanning', '_1'),
  C('device_vendor_msft_policy_config_admx_microsoftdefenderantivirus_disableroutinelytakingaction', '_0'),
  C('device_vendor_msft_policy_config_defender_allowarchivescanning', '_1'),
  C('device_vendor_msft_policy_config_defender_allowbehaviormonitoring', '_1'),
  C('device_vendor_msft_policy_config_defender_allowcloudprotection', '_1'),
  C('device_vendor_msft_policy_config_defender_allowemailscanning', '_1'),
  C('device_vendor_msft_policy_config_defender_allowfullscanremovabledrivescanning', '_1'),
  C('device_vendor_msft_policy_config_defender_allowonaccessprotection', '_1'),
  C('device_vendor_msft_policy_config_defender_allowrealtimemonitoring', '_1'),
  C('device_vendor_msft_policy_config_defender_allowscanningnetworkfiles', '_1'),
  C('device_vendor_msft_policy_config_defender_allowioavprotection', '_1'),
  C('device_vendor_msft_policy_config_defender_allowscriptscanning', '_1'),
  C('device_vendor_msft_policy_config_defender_allowuseruiaccess', '_1'),
  G('device_vendor_msft_policy_config_defender_attacksurfacereductionrules', [GV([
    C('device_vendor_msft_policy_config_defender_attacksurfacereductionrules_blockrebootingmachineinsafemode', '_block'),
    C('device_vendor_msft_policy_config_defender_attacksurfacereductionrules_blockuseofcopiedorimpersonatedsystemtools', '_block'),
    C('device_vendor_msft_policy_config_defender_attacksurfacereductionrules_blockwebshellcreationforservers', '_block')])]),
  C('device_vendor_msft_policy_config_defender_checkforsignaturesbeforerunningscan', '_1'),
  C('device_vendor_msft_policy_config_defender_cloudblocklevel', '_2'),
  I('device_vendor_msft_policy_config_defender_cloudextendedtimeout', 50),
  I('device_vendor_msft_defender_configuration_daysuntilaggressivecatchupquickscan', 7),
  C('device_vendor_msft_defender_configuration_disablelocaladminmerge', '_0'),
  C('device_vendor_msft_defender_configuration_enableconvertwarntoblock', '_1'),
  C('device_vendor_msft_defender_configuration_enablefilehashcomputation', '_1'),
  C('device_vendor_msft_policy_config_defender_enablenetworkprotection', '_1'),
  C('device_vendor_msft_defender_configuration_hideexclusionsfromlocaladmins', '_1'),
  C('device_vendor_msft_defender_configuration_hideexclusionsfromlocalusers', '_1'),
  C('device_vendor_msft_defender_configuration_oobeenablertpandsigupdate', '_1'),
  CC('device_vendor_msft_defender_configuration_passiveremediation', [V('_1')]),
  C('device_vendor_msft_policy_config_defender_puaprotection', '_1'),
  C('device_vendor_msft_defender_configuration_quickscanincludeexclusions', '_1'),
  C('device_vendor_msft_policy_config_defender_realtimescandirection', '_0'),
  C('device_vendor_msft_defender_configuration_behavioralnetworkblocks_remoteencryptionprotection_remoteencryptionprotectionconfiguredstate', '_2'),
  C('device_vendor_msft_policy_config_defender_scanparameter', '_1'),
  I('device_vendor_msft_policy_config_defender_schedulequickscantime', 120),
  C('device_vendor_msft_policy_config_defender_schedulescanday', '_0'),
  I('device_vendor_msft_policy_config_defender_schedulescantime', 120),
  I('device_vendor_msft_policy_config_defender_signatureupdateinterval', 4),
  C('device_vendor_msft_policy_config_defender_submitsamplesconsent', '_1'),
  C('device_vendor_msft_policy_config_windowsdefendersecuritycenter_disallowexploitprotectionoverride', '_1'),
]

# device-security <- CES2026-IntuneCD: Backup/Settings Catalog/POC_WIN_D_CO_SBL_CIS_MS_DeviceSecurity_mdm.json
SC_SRC['device-security'] = [
  C('device_vendor_msft_policy_config_localsecurityauthority_allowcustomsspsaps', '_0'),
  C('device_vendor_msft_policy_config_power_allowstandbystateswhensleepingonbattery', '_0'),
  C('device_vendor_msft_policy_config_power_allowstandbywhensleepingpluggedin', '_0'),
  C('device_vendor_msft_policy_config_kerberos_pkinithashalgorithmconfiguration', '_1', ch=[
    C('device_vendor_msft_policy_config_kerberos_pkinithashalgorithmsha1', '_0'),
    C('device_vendor_msft_policy_config_kerberos_pkinithashalgorithmsha256', '_3'),
    C('device_vendor_msft_policy_config_kerberos_pkinithashalgorithmsha384', '_3'),
    C('device_vendor_msft_policy_config_kerberos_pkinithashalgorithmsha512', '_3')]),
  C('device_vendor_msft_policy_config_localpoliciessecurityoptions_accounts_enableguestaccountstatus', '_0'),
  C('device_vendor_msft_policy_config_localpoliciessecurityoptions_accounts_limitlocalaccountuseofblankpasswordstoconsolelogononly', '_1'),
  S('device_vendor_msft_policy_config_localpoliciessecurityoptions_accounts_renameadministratoraccount', 'cpadmin'),
  S('device_vendor_msft_policy_config_localpoliciessecurityoptions_accounts_renameguestaccount', 'cpguest'),
  C('device_vendor_msft_policy_config_localpoliciessecurityoptions_interactivelogon_donotdisplaylastsignedin', '_1'),
  C('device_vendor_msft_policy_config_localpoliciessecurityoptions_interactivelogon_donotrequirectrlaltdel', '_0'),
  I('device_vendor_msft_policy_config_localpoliciessecurityoptions_interactivelogon_machineinactivitylimit_v2', 900),
  C('device_vendor_msft_policy_config_localpoliciessecurityoptions_interactivelogon_smartcardremovalbehavior', '_1'),
  C('device_vendor_msft_policy_config_localpoliciessecurityoptions_microsoftnetworkclient_digitallysigncommunicationsalways', '_1'),
  C('device_vendor_msft_policy_config_localpoliciessecurityoptions_microsoftnetworkclient_digitallysigncommunicationsifserveragrees', '_1'),
  C('device_vendor_msft_policy_config_localpoliciessecurityoptions_microsoftnetworkclient_sendunencryptedpasswordtothirdpartysmbservers', '_0'),
  C('device_vendor_msft_policy_config_localpoliciessecurityoptions_microsoftnetworkserver_digitallysigncommunicationsalways', '_1'),
  C('device_vendor_msft_policy_config_localpoliciessecurityoptions_microsoftnetworkserver_digitallysigncommunicationsifclientagrees', '_1'),
  C('device_vendor_msft_policy_config_localpoliciessecurityoptions_networkaccess_donotallowanonymousenumerationofsamaccounts', '_1'),
  C('device_vendor_msft_policy_config_localpoliciessecurityoptions_networkaccess_donotallowanonymousenumerationofsamaccountsandshares', '_1'),
  C('device_vendor_msft_policy_config_localpoliciessecurityoptions_networkaccess_restrictanonymousaccesstonamedpipesandshares', '_1'),
  S('device_vendor_msft_policy_config_localpoliciessecurityoptions_networkaccess_restrictclientsallowedtomakeremotecallstosam', 'O:BAG:BAD:(A;;RC;;;BA)'),
  C('device_vendor_msft_policy_config_localpoliciessecurityoptions_networksecurity_allowlocalsystemtousecomputeridentityforntlm', '_1'),
  C('device_vendor_msft_policy_config_localpoliciessecurityoptions_networksecurity_allowpku2uauthenticationrequests', '_0'),
  C('device_vendor_msft_policy_config_localpoliciessecurityoptions_networksecurity_donotstorelanmanagerhashvalueonnextpasswordchange', '_1'),
  C('device_vendor_msft_policy_config_localpoliciessecurityoptions_networksecurity_lanmanagerauthenticationlevel', '_5'),
  C('device_vendor_msft_policy_config_localpoliciessecurityoptions_networksecurity_minimumsessionsecurityforntlmsspbasedclients', '_537395200'),
  C('device_vendor_msft_policy_config_localpoliciessecurityoptions_networksecurity_minimumsessionsecurityforntlmsspbasedservers', '_537395200'),
  C('device_vendor_msft_policy_config_localpoliciessecurityoptions_networksecurity_restrictntlm_auditincomingntlmtraffic', '_2'),
  C('device_vendor_msft_policy_config_localpoliciessecurityoptions_useraccountcontrol_behavioroftheelevationpromptforstandardusers', '_0'),
  C('device_vendor_msft_policy_config_localpoliciessecurityoptions_useraccountcontrol_detectapplicationinstallationsandpromptforelevation', '_1'),
  C('device_vendor_msft_policy_config_localpoliciessecurityoptions_useraccountcontrol_onlyelevateuiaccessapplicationsthatareinstalledinsecurelocations', '_1'),
  C('device_vendor_msft_policy_config_localpoliciessecurityoptions_useraccountcontrol_runalladministratorsinadminapprovalmode', '_1'),
  C('device_vendor_msft_policy_config_localpoliciessecurityoptions_useraccountcontrol_switchtothesecuredesktopwhenpromptingforelevation', '_1'),
  C('device_vendor_msft_policy_config_localpoliciessecurityoptions_useraccountcontrol_useadminapprovalmode', '_1'),
  C('device_vendor_msft_policy_config_localpoliciessecurityoptions_useraccountcontrol_virtualizefileandregistrywritefailurestoperuserlocations', '_1'),
]

# auditing <- CES2026-IntuneCD: Backup/Settings Catalog/POC_WIN_D_CO_SBL_NCSC_MS_Auditing_mdm.json
SC_SRC['auditing'] = [
  C('device_vendor_msft_policy_config_eventlogservice_specifymaximumfilesizeapplicationlog', '_1', ch=[
    I('device_vendor_msft_policy_config_eventlogservice_specifymaximumfilesizeapplicationlog_channel_logmaxsize', 32768)]),
  C('device_vendor_msft_policy_config_eventlogservice_specifymaximumfilesizesecuritylog', '_1', ch=[
    I('device_vendor_msft_policy_config_eventlogservice_specifymaximumfilesizesecuritylog_channel_logmaxsize', 196608)]),
  C('device_vendor_msft_policy_config_eventlogservice_specifymaximumfilesizesystemlog', '_1', ch=[
    I('device_vendor_msft_policy_config_eventlogservice_specifymaximumfilesizesystemlog_channel_logmaxsize', 32768)]),
  C('device_vendor_msft_policy_config_errorreporting_disablewindowserrorreporting', '_1'),
  C('device_vendor_msft_policy_config_windowspowershell_turnonpowershellscriptblocklogging', '_1', ch=[
    C('device_vendor_msft_policy_config_windowspowershell_turnonpowershellscriptblocklogging_enablescriptblockinvocationlogging', '_0')]),
  C('device_vendor_msft_policy_config_audit_accountlogon_auditcredentialvalidation', '_3'),
  C('device_vendor_msft_policy_config_audit_accountlogonlogoff_auditaccountlockout', '_2'),
  C('device_vendor_msft_policy_config_audit_accountlogonlogoff_auditgroupmembership', '_1'),
  C('device_vendor_msft_policy_config_audit_accountlogonlogoff_auditlogon', '_3'),
  C('device_vendor_msft_policy_config_audit_policychange_auditauthenticationpolicychange', '_1'),
  C('device_vendor_msft_policy_config_audit_policychange_auditpolicychange', '_1'),
  C('device_vendor_msft_policy_config_audit_objectaccess_auditfileshare', '_3'),
  C('device_vendor_msft_policy_config_audit_accountlogonlogoff_auditotherlogonlogoffevents', '_3'),
  C('device_vendor_msft_policy_config_audit_accountmanagement_auditsecuritygroupmanagement', '_1'),
  C('device_vendor_msft_policy_config_audit_system_auditsecuritysystemextension', '_1'),
  C('device_vendor_msft_policy_config_audit_accountlogonlogoff_auditspeciallogon', '_1'),
  C('device_vendor_msft_policy_config_audit_accountmanagement_audituseraccountmanagement', '_3'),
  C('device_vendor_msft_policy_config_audit_detailedtracking_auditpnpactivity', '_1'),
  C('device_vendor_msft_policy_config_audit_detailedtracking_auditprocesscreation', '_1'),
  C('device_vendor_msft_policy_config_audit_objectaccess_auditdetailedfileshare', '_2'),
  C('device_vendor_msft_policy_config_audit_objectaccess_auditfilteringplatformconnection', '_3'),
  C('device_vendor_msft_policy_config_audit_objectaccess_auditfilteringplatformpacketdrop', '_3'),
  C('device_vendor_msft_policy_config_audit_objectaccess_auditotherobjectaccessevents', '_3'),
  C('device_vendor_msft_policy_config_audit_objectaccess_auditremovablestorage', '_3'),
  C('device_vendor_msft_policy_config_audit_policychange_auditmpssvcrulelevelpolicychange', '_3'),
  C('device_vendor_msft_policy_config_audit_policychange_auditotherpolicychangeevents', '_2'),
  C('device_vendor_msft_policy_config_audit_privilegeuse_auditsensitiveprivilegeuse', '_1'),
  C('device_vendor_msft_policy_config_audit_system_auditothersystemevents', '_3'),
  C('device_vendor_msft_policy_config_audit_system_auditsecuritystatechange', '_1'),
  C('device_vendor_msft_policy_config_audit_system_auditsystemintegrity', '_3'),
]

# bitlocker <- CES2026-IntuneCD: Backup/Settings Catalog/POC_WIN_D_CO_SBL_MSZT_BitLocker_mdm.json
SC_SRC['bitlocker'] = [
  C('device_vendor_msft_bitlocker_fixeddrivesencryptiontype', '_1', ch=[
    C('device_vendor_msft_bitlocker_fixeddrivesencryptiontype_fdvencryptiontypedropdown_name', '_1', vt='bdc82022-1c59-49a3-ac69-50e329650297')], t='85a47676-5027-4b14-9f99-e4625728244a', vt='bdc82022-1c59-49a3-ac69-50e329650297'),
  C('device_vendor_msft_bitlocker_fixeddrivesrecoveryoptions', '_1', ch=[
    C('device_vendor_msft_bitlocker_fixeddrivesrecoveryoptions_fdvrecoverykeyusagedropdown_name', '_2', vt='2159ffae-55e2-406b-98b4-2ecdd9452c68'),
    C('device_vendor_msft_bitlocker_fixeddrivesrecoveryoptions_fdvrecoverypasswordusagedropdown_name', '_2', vt='2159ffae-55e2-406b-98b4-2ecdd9452c68'),
    C('device_vendor_msft_bitlocker_fixeddrivesrecoveryoptions_fdvallowdra_name', '_0', vt='2159ffae-55e2-406b-98b4-2ecdd9452c68'),
    C('device_vendor_msft_bitlocker_fixeddrivesrecoveryoptions_fdvactivedirectorybackupdropdown_name', '_1', vt='2159ffae-55e2-406b-98b4-2ecdd9452c68'),
    C('device_vendor_msft_bitlocker_fixeddrivesrecoveryoptions_fdvhiderecoverypage_name', '_1', vt='2159ffae-55e2-406b-98b4-2ecdd9452c68'),
    C('device_vendor_msft_bitlocker_fixeddrivesrecoveryoptions_fdvactivedirectorybackup_name', '_1', vt='2159ffae-55e2-406b-98b4-2ecdd9452c68'),
    C('device_vendor_msft_bitlocker_fixeddrivesrecoveryoptions_fdvrequireactivedirectorybackup_name', '_1', vt='2159ffae-55e2-406b-98b4-2ecdd9452c68')], t='ad21af4f-e42f-4870-85d8-1949e9adfad7', vt='2159ffae-55e2-406b-98b4-2ecdd9452c68'),
  C('device_vendor_msft_bitlocker_fixeddrivesrequireencryption', '_1', t='7a47b4f2-0d06-46ea-a88a-9809830be5c8', vt='ddfd6c77-f32f-480c-a43d-4970185ccf15'),
  C('device_vendor_msft_bitlocker_systemdrivesencryptiontype', '_1', ch=[
    C('device_vendor_msft_bitlocker_systemdrivesencryptiontype_osencryptiontypedropdown_name', '_1', vt='54f346c7-008f-421c-bcb5-40f822bb97fe')], t='d3e31794-1ce6-4572-ab0c-0c0f9200a509', vt='54f346c7-008f-421c-bcb5-40f822bb97fe'),
  C('device_vendor_msft_bitlocker_systemdrivesrequirestartupauthentication', '_1', ch=[
    C('device_vendor_msft_bitlocker_systemdrivesrequirestartupauthentication_configurenontpmstartupkeyusage_name', '_0', vt='f742e25d-2f09-41f7-9556-6af75960f42b'),
    C('device_vendor_msft_bitlocker_systemdrivesrequirestartupauthentication_configuretpmpinkeyusagedropdown_name', '_0', vt='f742e25d-2f09-41f7-9556-6af75960f42b'),
    C('device_vendor_msft_bitlocker_systemdrivesrequirestartupauthentication_configuretpmstartupkeyusagedropdown_name', '_0', vt='f742e25d-2f09-41f7-9556-6af75960f42b'),
    C('device_vendor_msft_bitlocker_systemdrivesrequirestartupauthentication_configurepinusagedropdown_name', '_0', vt='f742e25d-2f09-41f7-9556-6af75960f42b'),
    C('device_vendor_msft_bitlocker_systemdrivesrequirestartupauthentication_configuretpmusagedropdown_name', '_1', vt='f742e25d-2f09-41f7-9556-6af75960f42b')], t='a5673a18-196d-49a0-a460-a8f35b807b45', vt='f742e25d-2f09-41f7-9556-6af75960f42b'),
  C('device_vendor_msft_bitlocker_systemdrivesrecoveryoptions', '_1', ch=[
    C('device_vendor_msft_bitlocker_systemdrivesrecoveryoptions_osrecoverykeyusagedropdown_name', '_2', vt='2a756c45-f135-442f-9c01-829a9c9b5407'),
    C('device_vendor_msft_bitlocker_systemdrivesrecoveryoptions_osrecoverypasswordusagedropdown_name', '_2', vt='2a756c45-f135-442f-9c01-829a9c9b5407'),
    C('device_vendor_msft_bitlocker_systemdrivesrecoveryoptions_osallowdra_name', '_0', vt='2a756c45-f135-442f-9c01-829a9c9b5407'),
    C('device_vendor_msft_bitlocker_systemdrivesrecoveryoptions_osactivedirectorybackupdropdown_name', '_1', vt='2a756c45-f135-442f-9c01-829a9c9b5407'),
    C('device_vendor_msft_bitlocker_systemdrivesrecoveryoptions_oshiderecoverypage_name', '_1', vt='2a756c45-f135-442f-9c01-829a9c9b5407'),
    C('device_vendor_msft_bitlocker_systemdrivesrecoveryoptions_osactivedirectorybackup_name', '_1', vt='2a756c45-f135-442f-9c01-829a9c9b5407'),
    C('device_vendor_msft_bitlocker_systemdrivesrecoveryoptions_osrequireactivedirectorybackup_name', '_1', vt='2a756c45-f135-442f-9c01-829a9c9b5407')], t='5a350519-4bc6-4443-9c4b-6859a054ff83', vt='2a756c45-f135-442f-9c01-829a9c9b5407'),
  C('device_vendor_msft_bitlocker_removabledrivesconfigurebde', '_1', ch=[
    C('device_vendor_msft_bitlocker_removabledrivesconfigurebde_rdvallowbde_name', '_1', ch=[
      C('device_vendor_msft_bitlocker_removabledrivesencryptiontype', '_1', ch=[
        C('device_vendor_msft_bitlocker_removabledrivesencryptiontype_rdvencryptiontypedropdown_name', '_1', vt='3a3ef51b-01c4-4f3b-9e63-5e41d351428b')], t='cc973fc2-dd89-4a4c-8eed-e02663d68fd8', vt='5d17b1c5-2f64-4dc2-b982-7e72ac36b022')]),
    C('device_vendor_msft_bitlocker_removabledrivesconfigurebde_rdvdisablebde_name', '_0', vt='3a3ef51b-01c4-4f3b-9e63-5e41d351428b')], t='5f8b6127-bc7f-469b-b903-ea3d46035448', vt='3a3ef51b-01c4-4f3b-9e63-5e41d351428b'),
  C('device_vendor_msft_bitlocker_removabledrivesrequireencryption', '_1', ch=[
    C('device_vendor_msft_bitlocker_removabledrivesrequireencryption_rdvcrossorg', '_0', vt='06f0b5be-421d-4de1-92d1-b9c9b461fa38')], t='28e5153b-24cb-45fd-b53d-96847b00c9a6', vt='06f0b5be-421d-4de1-92d1-b9c9b461fa38'),
  C('device_vendor_msft_bitlocker_encryptionmethodbydrivetype', '_1', ch=[
    C('device_vendor_msft_bitlocker_encryptionmethodbydrivetype_encryptionmethodwithxtsfdvdropdown_name', '_7', vt='7cd99564-6bd0-42c8-be6a-5d92c6c1faaf'),
    C('device_vendor_msft_bitlocker_encryptionmethodbydrivetype_encryptionmethodwithxtsosdropdown_name', '_7', vt='7cd99564-6bd0-42c8-be6a-5d92c6c1faaf'),
    C('device_vendor_msft_bitlocker_encryptionmethodbydrivetype_encryptionmethodwithxtsrdvdropdown_name', '_4', vt='7cd99564-6bd0-42c8-be6a-5d92c6c1faaf')], t='d1625438-8db8-424f-b605-cf001b7a2f97', vt='7cd99564-6bd0-42c8-be6a-5d92c6c1faaf'),
  C('device_vendor_msft_bitlocker_requiredeviceencryption', '_1', t='20ec1f6e-0d7a-4b6f-9a4f-9ed33e69ce51', vt='86da5fa5-67cf-48d1-8215-8787a9900ae6'),
  C('device_vendor_msft_bitlocker_allowwarningforotherdiskencryption', '_0', ch=[
    C('device_vendor_msft_bitlocker_allowstandarduserencryption', '_1', vt='7d348597-0f2a-43db-9fad-8b55c4f89bfe')], t='e40531ee-2225-406b-b07b-1c17186c088c', vt='7d348597-0f2a-43db-9fad-8b55c4f89bfe'),
  C('device_vendor_msft_bitlocker_configurerecoverypasswordrotation', '_1', t='48c938a7-afa0-40ef-914f-40b5da5735b4', vt='48278072-3b30-48e9-b654-ad683fdb9aae'),
]

# asr <- CES2026-IntuneCD: Backup/Settings Catalog/POC_WIN_D_CO_SBL_MSZT_Defender_AttackSurfaceReduction_microsoftSense.json
SC_SRC['asr'] = [
  G('device_vendor_msft_policy_config_defender_attacksurfacereductionrules', [GV([
    C('device_vendor_msft_policy_config_defender_attacksurfacereductionrules_blockexecutionofpotentiallyobfuscatedscripts', '_block', t='e416083e-05e3-4237-b8ec-a6ad49c4571e', vt='8b17ebce-496f-4b58-9d89-dd1c3861de39'),
    C('device_vendor_msft_policy_config_defender_attacksurfacereductionrules_blockwin32apicallsfromofficemacros', '_block')])], t='19600663-e264-4c02-8f55-f2983216d6d7'),
]

# laps <- CES2026-IntuneCD: Backup/Settings Catalog/POC_WIN_D_CO_SBL_MSZT_WindowsLAPS_mdm.json
SC_SRC['laps'] = [
  C('device_vendor_msft_laps_policies_backupdirectory', '_1', ch=[
    I('device_vendor_msft_laps_policies_passwordagedays_aad', 14, vt='4d90f03d-e14c-43c4-86da-681da96a2f92')], t='a3270f64-e493-499d-8900-90290f61ed8a', vt='4d90f03d-e14c-43c4-86da-681da96a2f92'),
  C('device_vendor_msft_laps_policies_passwordcomplexity', '_6', ch=[
    I('device_vendor_msft_laps_policies_passphraselength', 4, vt='aa883ab5-625e-4e3b-b830-a37a4bb8ce01')], t='8a7459e8-1d1c-458a-8906-7b27d216de52', vt='aa883ab5-625e-4e3b-b830-a37a4bb8ce01'),
  C('device_vendor_msft_laps_policies_postauthenticationactions', '_3', t='d9282eb1-d187-42ae-b366-7081f32dcfff', vt='68ff4f78-baa8-4b32-bf3d-5ad5566d8142'),
  C('device_vendor_msft_laps_policies_automaticaccountmanagementenabled', '_true', ch=[
    C('device_vendor_msft_laps_policies_automaticaccountmanagementrandomizename', '_false'),
    C('device_vendor_msft_laps_policies_automaticaccountmanagementenableaccount', '_true', vt='5db30960-1e02-4100-9e2c-a2212596b054'),
    C('device_vendor_msft_laps_policies_automaticaccountmanagementtarget', '_1', vt='5db30960-1e02-4100-9e2c-a2212596b054'),
    S('device_vendor_msft_laps_policies_automaticaccountmanagementnameorprefix', 'LAP', vt='5db30960-1e02-4100-9e2c-a2212596b054')], t='0d70f6fb-8f35-4fba-8ada-494b8a478703', vt='5db30960-1e02-4100-9e2c-a2212596b054'),
  I('device_vendor_msft_laps_policies_passwordlength', 14, t='da7a1dbd-caf7-4341-ab63-ece6f994ff02', vt='d08f1266-5345-4f53-8ae1-4c20e6cb5ec9'),
  I('device_vendor_msft_laps_policies_postauthenticationresetdelay', 12, t='a9e21166-4055-4042-9372-efaf3ef41868', vt='0deb6aee-8dac-40c4-a9dd-c3718e5c1d52'),
]

# hello <- CES2026-IntuneCD: Backup/Settings Catalog/POC_WIN_D_CO_SBL_CIS_MS_WindowsHello_mdm.json
SC_SRC['hello'] = [
  G('device_vendor_msft_passportforwork_{tenantid}', [GV([
    I('device_vendor_msft_passportforwork_{tenantid}_policies_pincomplexity_minimumpinlength', 6),
    C('device_vendor_msft_passportforwork_{tenantid}_policies_requiresecuritydevice', '_true')])]),
  C('device_vendor_msft_passportforwork_biometrics_enableesswithsupportedperipherals', '_1'),
  C('device_vendor_msft_passportforwork_biometrics_facialfeaturesuseenhancedantispoofing', '_true'),
]

# wu <- CES2026-IntuneCD: Backup/Settings Catalog/POC_WIN_D_CO_SBL_CIS_MS_WindowsUpdate_mdm.json
SC_SRC['wu'] = [
  C('device_vendor_msft_policy_config_update_allowautoupdate', '_2'),
  C('device_vendor_msft_policy_config_update_setdisablepauseuxaccess', '_1'),
  I('device_vendor_msft_policy_config_update_deferfeatureupdatesperiodindays', 180),
  I('device_vendor_msft_policy_config_update_deferqualityupdatesperiodindays', 0),
  C('device_vendor_msft_policy_config_update_scheduledinstallday', '_0'),
]

# devicelock <- CES2026-IntuneCD: Backup/Settings Catalog/POC_WIN_D_CO_SBL_CIS_MS_DeviceLock_mdm.json
SC_SRC['devicelock'] = [
  C('device_vendor_msft_policy_config_devicelock_devicepasswordenabled', '_0', ch=[
    C('device_vendor_msft_policy_config_devicelock_alphanumericdevicepasswordrequired', '_0', ch=[
      C('device_vendor_msft_policy_config_devicelock_mindevicepasswordcomplexcharacters', '_2')]),
    I('device_vendor_msft_policy_config_devicelock_devicepasswordexpiration', 365),
    I('device_vendor_msft_policy_config_devicelock_maxdevicepasswordfailedattempts', 5),
    I('device_vendor_msft_policy_config_devicelock_maxinactivitytimedevicelock', 15),
    I('device_vendor_msft_policy_config_devicelock_mindevicepasswordlength', 14)]),
  I('device_vendor_msft_policy_config_devicelock_minimumpasswordage', 1),
]

# edge <- CES2026-IntuneCD: Backup/Settings Catalog/POC_WIN_D_CO_SBL_NCSC_MS_MicrosoftEdge_mdm.json
SC_SRC['edge'] = [
  C('device_vendor_msft_policy_config_browser_allowpasswordmanager', '_0'),
  C('device_vendor_msft_policy_config_browser_preventcerterroroverrides', '_1'),
  C('device_vendor_msft_policy_config_microsoft_edge~policy~microsoft_edge_downloadrestrictions', '_1', ch=[
    C('device_vendor_msft_policy_config_microsoft_edge~policy~microsoft_edge_downloadrestrictions_downloadrestrictions', '_1')]),
  C('device_vendor_msft_policy_config_microsoft_edgev92~policy~microsoft_edge_internetexplorerintegrationreloadiniemodeallowed', '_0'),
  C('device_vendor_msft_policy_config_microsoft_edge~policy~microsoft_edge_sslerroroverrideallowed', '_0'),
  C('device_vendor_msft_policy_config_microsoft_edge~policy~microsoft_edge_promptfordownloadlocation', '_1'),
  C('device_vendor_msft_policy_config_microsoft_edgev117~policy~microsoft_edge_internetexplorerintegrationzoneidentifiermhtfileallowed', '_0'),
  C('device_vendor_msft_policy_config_microsoft_edge~policy~microsoft_edge_internetexplorerintegrationlevel', '_0'),
  C('device_vendor_msft_policy_config_microsoft_edge~policy~microsoft_edge~contentsettings_defaultpluginssetting', '_0'),
  C('user_vendor_msft_policy_config_microsoft_edge~policy~microsoft_edge~contentsettings_defaultpluginssetting', '_0'),
  C('device_vendor_msft_policy_config_microsoft_edge~policy~microsoft_edge_developertoolsavailability', '_1', ch=[
    C('device_vendor_msft_policy_config_microsoft_edge~policy~microsoft_edge_developertoolsavailability_developertoolsavailability', '_2')]),
  C('device_vendor_msft_policy_config_microsoft_edgev128~policy~microsoft_edge_dynamiccodesettings', '_1', ch=[
    C('device_vendor_msft_policy_config_microsoft_edgev128~policy~microsoft_edge_dynamiccodesettings_dynamiccodesettings', '_0')]),
  C('device_vendor_msft_policy_config_microsoft_edgev128.1~policy~microsoft_edge_applicationboundencryptionenabled', '_1'),
  C('device_vendor_msft_policy_config_microsoft_edgev95~policy~microsoft_edge_browserlegacyextensionpointsblockingenabled', '_1'),
  C('device_vendor_msft_policy_config_microsoft_edge~policy~microsoft_edge_siteperprocess', '_1'),
  C('device_vendor_msft_policy_config_microsoft_edge~policy~microsoft_edge~extensions_extensioninstallblocklist', '_1', ch=[
    SC('device_vendor_msft_policy_config_microsoft_edge~policy~microsoft_edge~extensions_extensioninstallblocklist_extensioninstallblocklistdesc', [SV('*')])]),
  C('device_vendor_msft_policy_config_microsoft_edgev88.0.705.23~policy~microsoft_edge~httpauthentication_basicauthoverhttpenabled', '_0'),
  C('device_vendor_msft_policy_config_microsoft_edge~policy~microsoft_edge~httpauthentication_authschemes', '_1', ch=[
    S('device_vendor_msft_policy_config_microsoft_edge~policy~microsoft_edge~httpauthentication_authschemes_authschemes', 'ntlm,negotiate')]),
  C('device_vendor_msft_policy_config_microsoft_edge~policy~microsoft_edge_sslversionmin', '_1', ch=[
    C('device_vendor_msft_policy_config_microsoft_edge~policy~microsoft_edge_sslversionmin_sslversionmin', '_tls1.2')]),
  C('user_vendor_msft_policy_config_microsoft_edge~policy~microsoft_edge_sslversionmin', '_1', ch=[
    C('user_vendor_msft_policy_config_microsoft_edge~policy~microsoft_edge_sslversionmin_sslversionmin', '_tls1.2')]),
  C('device_vendor_msft_policy_config_microsoft_edge~policy~microsoft_edge~nativemessaging_nativemessaginguserlevelhosts', '_0'),
  C('device_vendor_msft_policy_config_microsoft_edgev92~policy~microsoft_edge~privatenetworkrequestsettings_insecureprivatenetworkrequestsallowed', '_0'),
  C('device_vendor_msft_policy_config_microsoft_edgev96~policy~microsoft_edge_internetexplorermodetoolbarbuttonenabled', '_0'),
  C('device_vendor_msft_policy_config_microsoft_edgev111~policy~microsoft_edge_sharedarraybufferunrestrictedaccessallowed', '_0'),
  C('device_vendor_msft_policy_config_microsoft_edgev96~policy~microsoft_edge~typosquattingchecker_typosquattingcheckerenabled', '_1'),
]

# printing <- CES2026-IntuneCD: Backup/Settings Catalog/POC_WIN_D_CO_SBL_NCSC_MS_Printing_mdm.json
SC_SRC['printing'] = [
  C('device_vendor_msft_policy_config_printers_configurerpclistenerpolicy', '_1', ch=[
    C('device_vendor_msft_policy_config_printers_configurerpclistenerpolicy_rpclistenerprotocols_enum', '_5'),
    C('device_vendor_msft_policy_config_printers_configurerpclistenerpolicy_rpcauthenticationprotocol_enum', '_0')]),
  C('device_vendor_msft_policy_config_printers_configureredirectionguardpolicy', '_1', ch=[
    C('device_vendor_msft_policy_config_printers_configureredirectionguardpolicy_redirectionguardpolicy_enum', '_1')]),
  C('device_vendor_msft_policy_config_printers_configurerpcconnectionpolicy', '_1', ch=[
    C('device_vendor_msft_policy_config_printers_configurerpcconnectionpolicy_rpcconnectionauthentication_enum', '_0'),
    C('device_vendor_msft_policy_config_printers_configurerpcconnectionpolicy_rpcconnectionprotocol_enum', '_0')]),
  C('device_vendor_msft_policy_config_printers_configurerpctcpport', '_1', ch=[
    I('device_vendor_msft_policy_config_printers_configurerpctcpport_rpctcpport', 0)]),
  C('device_vendor_msft_policy_config_printers_restrictdriverinstallationtoadministrators', '_1'),
  C('device_vendor_msft_policy_config_printers_configurecopyfilespolicy', '_1', ch=[
    C('device_vendor_msft_policy_config_printers_configurecopyfilespolicy_copyfilespolicy_enum', '_1')]),
]

# mac-filevault <- CES2026-IntuneCD: Backup/Settings Catalog/[intune-my-macs] POL-SEC-001 - FileVault Disk Encryption_appleRemoteManagement.json
SC_SRC['mac-filevault'] = [
  G('com.apple.mcx.filevault2_com.apple.mcx.filevault2', [GV([
    C('com.apple.mcx.filevault2_defer', '_true'),
    C('com.apple.mcx.filevault2_enable', '_0'),
    C('com.apple.mcx.filevault2_forceenableinsetupassistant', '_true'),
    C('com.apple.mcx.filevault2_showrecoverykey', '_false'),
    C('com.apple.mcx.filevault2_userecoverykey', '_true'),
    C('com.apple.mcx.filevault2_userentersmissinginfo', '_false')])]),
  G('com.apple.mcx_com.apple.mcx-fdefilevaultoptions', [GV([
    C('com.apple.mcx_dontallowfdedisable', '_true'),
    C('com.apple.mcx_dontallowfdeenable', '_false')])]),
  G('com.apple.security.fderecoverykeyescrow_com.apple.security.fderecoverykeyescrow', [GV([
    S('com.apple.security.fderecoverykeyescrow_location', 'https://user.manage.microsoft.com')])]),
]

# mac-gatekeeper <- CES2026-IntuneCD: Backup/Settings Catalog/[intune-my-macs] POL-SEC-003 - Gatekeeper Security_appleRemoteManagement.json
SC_SRC['mac-gatekeeper'] = [
  G('com.apple.systempolicy.control_com.apple.systempolicy.control', [GV([
    C('com.apple.systempolicy.control_allowidentifieddevelopers', '_true'),
    C('com.apple.systempolicy.control_enableassessment', '_true'),
    C('com.apple.systempolicy.control_enablexprotectmalwareupload', '_true')])]),
  G('com.apple.systempolicy.managed_com.apple.systempolicy.managed', [GV([
    C('com.apple.systempolicy.managed_disableoverride', '_true')])]),
]

# mac-defender <- CES2026-IntuneCD: Backup/Settings Catalog/POC_MAC_D_CO_SBL_MSZT_Defender_Antivirus_microsoftSense.json
SC_SRC['mac-defender'] = [
  C('com.apple.managedclient.preferences_enabled', '_true', t='9e424cc6-35b9-48ef-863c-73295aa9d2d7', vt='7ea0a2aa-0953-4340-b590-522f040b0da3'),
  C('com.apple.managedclient.preferences_automaticsamplesubmission', '_true', t='d5563bad-08c5-47de-8bbb-5d44e0f9a23a', vt='de57abd5-1a87-463e-96e7-e117524003ba'),
  C('com.apple.managedclient.preferences_diagnosticlevel', '_0', t='c7a9a79b-20cf-461f-8021-94702a32543b', vt='5fc10db6-9ee5-434a-9ed0-1382bf72969e'),
  C('com.apple.managedclient.preferences_automaticdefinitionupdateenabled', '_true', t='cc18c6dc-dca5-4845-9c78-c718c9447ddd', vt='112fd4a8-1393-49b6-9569-0d37266a6ad3'),
  C('com.apple.managedclient.preferences_threattypesettingsmergepolicy', '_0', t='65d9ddaf-0552-4e40-8575-71dd54b2ccb4', vt='613bcf39-69ec-4a1f-8822-07789ae7f8cb'),
  C('com.apple.managedclient.preferences_exclusionsmergepolicy', '_0', t='c07a6983-ac3e-4f38-be45-20954638dabd', vt='effc409a-9169-43f0-a807-2a388875cf99'),
  C('com.apple.managedclient.preferences_enforcementlevel_antivirusengine', '_2', t='a1bf7f4c-196e-4930-8395-a9b496433322', vt='440003a2-8406-47bb-a785-a45869556ead'),
  C('com.apple.managedclient.preferences_enforcementlevel', '_1', t='94f6f35c-4cee-4a61-930a-491b698c790a', vt='96ced765-4f68-441a-b9ad-b683cfdfa28f'),
  C('com.apple.managedclient.preferences_enforcementlevel_tamperprotection', '_2', t='3c4efab3-cf91-4540-b86d-54507c90bb4b', vt='6e25fd09-16f1-42fd-9ffe-954ee1c0b904'),
]

# ios-updates <- CES2026-IntuneCD: Backup/Settings Catalog/POC_IOS_D_CO_SBL_MSZT_Updates_appleRemoteManagement.json
SC_SRC['ios-updates'] = [
  G('ddm-latestsoftwareupdate_ddm-latestsoftwareupdate', [GV([
    C('ddm-latestsoftwareupdate_enforcelatestsoftwareupdateversion', '_0', ch=[
      I('ddm-latestsoftwareupdate_delayindays', 1),
      S('ddm-latestsoftwareupdate_installtime', '12:00')])])]),
  G('softwareupdate_softwareupdate', [GV([
    G('softwareupdate_automaticactions', [GV([
      C('softwareupdate_automaticactions_download', '_1'),
      C('softwareupdate_automaticactions_installosupdates', '_1'),
      C('softwareupdate_automaticactions_installsecurityupdate', '_1')])]),
    G('softwareupdate_rapidsecurityresponse', [GV([
      C('softwareupdate_rapidsecurityresponse_enable', '_true')])])])]),
]


# --------------------------------------------------------------------------------------------
# deterministic ids and timestamps
# --------------------------------------------------------------------------------------------
def gid(*parts):
    """Tenant-specific GUID: gid(env, kind, name)."""
    return str(uuid.uuid5(NS, "/".join(parts)))


def global_id(*parts):
    """GUID that is the same in every tenant (e.g. ADMX definitions from Microsoft's catalog)."""
    return str(uuid.uuid5(NS, "global/" + "/".join(parts)))


def _h(*parts):
    return int(hashlib.sha256("|".join(parts).encode()).hexdigest(), 16)


def _pick(start, end, *seed):
    span = int((end - start).total_seconds())
    return start + datetime.timedelta(seconds=_h(*seed) % span)


def fmt(dt, seed, frac=True):
    if not frac:
        return dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + ".%07dZ" % (_h("frac", seed) % 10**7)


D = datetime.datetime
DAY = datetime.timedelta(days=1)


def times(env, kind, name, changed_in_dev=False, dev_only=False):
    """(createdDateTime, lastModifiedDateTime) strings for a policy.
    DEV objects are created first; PROD copies are promoted 3-20 days later. Objects changed in
    DEV and not yet promoted were modified in DEV in January 2026."""
    seed = kind + "/" + name
    dev_created = _pick(D(2024, 10, 1), D(2025, 6, 30), "created", seed)
    dev_modified = dev_created + datetime.timedelta(seconds=_h("mod", seed) % (90 * 86400))
    if dev_only:
        dev_created = _pick(D(2026, 1, 12), D(2026, 1, 14), "created", seed)
        dev_modified = dev_created + datetime.timedelta(seconds=_h("mod", seed) % (3 * 86400))
    if env == "dev":
        created, modified = dev_created, dev_modified
        if changed_in_dev:
            modified = _pick(D(2026, 1, 12), D(2026, 1, 19), "devchange", seed)
    else:
        created = dev_modified + datetime.timedelta(seconds=(3 * 86400) + _h("promote", seed) % (17 * 86400))
        modified = created + datetime.timedelta(seconds=_h("prodmod", seed) % (30 * 86400))
    assert modified <= NOW
    return fmt(created, env + "c" + seed), fmt(modified, env + "m" + seed)


def int_version(env, name, changed_in_dev=False):
    v = 1 + _h("version", name) % 6
    return v + 1 if (env == "dev" and changed_in_dev) else v


def slug(name):
    s = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return s[:80]


def b64(data):
    return base64.b64encode(data).decode("ascii")


# --------------------------------------------------------------------------------------------
# tenants
# --------------------------------------------------------------------------------------------
TENANTS = {
    "dev": {
        "domain": "contoso-dev.onmicrosoft.com",
        # custom scope tags were created in a different order in each tenant
        "scopeTags": {"Default": "0", "Pharma-Lab": "1", "EMEA": "2", "AMER": "3"},
        "wifiPsk": "Contoso-Guest-2026!",
    },
    "prod": {
        "domain": "contoso.onmicrosoft.com",
        "scopeTags": {"Default": "0", "EMEA": "1", "AMER": "2", "Pharma-Lab": "3"},
        "wifiPsk": "Cp!Guest-Prod-7hQ2-2026",
    },
}

SCOPE_TAG_DESCRIPTIONS = {
    "Default": "Default Role Scope Tag. This will exist by default on all Intune entities whenever a user defined Role Scope Tag is not present.",
    "EMEA": "Objects managed by the EMEA endpoint team (Basel, Dublin, Cambridge).",
    "AMER": "Objects managed by the AMER endpoint team (Boston, Raleigh).",
    "Pharma-Lab": "GxP-validated laboratory workstations and instrument PCs; changes need QA sign-off.",
}


def tags(env, *names):
    return [TENANTS[env]["scopeTags"][n] for n in ("Default",) + names]


# --------------------------------------------------------------------------------------------
# directory: groups and users
# --------------------------------------------------------------------------------------------
INTUNE_PLAN = "c1ec4a95-1f05-45b3-a911-aa3fa01094f5"
GROUPS = [
    # name, description, dynamic membership rule (None = assigned), kind
    ("CA-BreakGlassAccounts-Exclude", "Emergency access (break-glass) accounts. Excluded from every Conditional Access policy.", None, "security"),
    ("SG-Intune-Pilot-Devices", "Pilot ring: IT and early-adopter devices that receive Intune changes first.", None, "security"),
    ("SG-Intune-All-Corporate-Devices", "All corporate-owned devices enrolled in Intune.",
     '(device.deviceOwnership -eq "Company") and (device.managementType -eq "MDM")', "security"),
    ("SG-Intune-Windows-Devices", "All Intune-managed Windows devices.",
     '(device.deviceOSType -eq "Windows") and (device.managementType -eq "MDM")', "security"),
    ("SG-Intune-macOS-Devices", "All Intune-managed macOS devices.", '(device.deviceOSType -eq "MacMDM")', "security"),
    ("SG-Intune-iOS-Devices", "All Intune-managed iPhones and iPads.",
     '(device.deviceOSType -eq "iPhone") or (device.deviceOSType -eq "iPad")', "security"),
    ("SG-Intune-Autopilot-Devices", "Devices registered with Windows Autopilot.",
     '(device.devicePhysicalIDs -any (_ -startsWith "[ZTDid]"))', "security"),
    ("SG-Intune-WUfB-Ring1-Pilot", "Windows Update for Business ring 1 (pilot).", None, "security"),
    ("SG-Intune-WUfB-Ring2-Broad", "Windows Update for Business ring 2 (broad): corporate Windows devices.",
     '(device.deviceOSType -eq "Windows") and (device.deviceOwnership -eq "Company")', "security"),
    ("SG-Intune-Licensed-Users", "Users with an enabled Intune licence.",
     '(user.assignedPlans -any (assignedPlan.servicePlanId -eq "%s" -and assignedPlan.capabilityStatus -eq "Enabled")) and (user.accountEnabled -eq true)' % INTUNE_PLAN,
     "security"),
    ("SG-Intune-Admins", "Endpoint administrators; copied on compliance notifications.", None, "security"),
    ("SG-Finance-Users", "Finance department users.", '(user.department -eq "Finance") and (user.accountEnabled -eq true)', "security"),
    ("SG-Pharma-Lab-Devices", "GxP-validated lab workstations and instrument PCs (names start with LAB-).",
     '(device.displayName -startsWith "LAB-")', "security"),
    ("SG-CA-Internal-Users", "Internal (member) users in scope of the Internals Conditional Access persona.",
     '(user.userType -eq "Member") and (user.accountEnabled -eq true)', "security"),
    ("SG-Intune-Compliance-Exclude", "Devices temporarily exempted from compliance evaluation (time-boxed, ticket required).", None, "security"),
    ("M365-ContosoPharma-AllStaff", "Contoso Pharma all-staff Microsoft 365 group.", None, "unified"),
]
GROUP_NAMES = {g[0] for g in GROUPS}
# A group that was deleted in DEV but is still referenced by a DEV-only policy's assignment.
DELETED_GROUPS = {"dev": {"SG-Intune-PrintHardening-Pilot"}, "prod": set()}

USERS = [
    # local part, display name, given, surname, job title, account enabled
    ("breakglass01", "Break Glass 01", None, None, "Emergency access account", True),
    ("breakglass02", "Break Glass 02", None, None, "Emergency access account", True),
    ("svc-entrasync", "Entra Connect Sync Service", None, None, "Service account", True),
]


def group_id(env, name):
    if name not in GROUP_NAMES and name not in DELETED_GROUPS[env]:
        raise KeyError("unknown group %r in %s" % (name, env))
    return gid(env, "group", name)


def user_id(env, local):
    return gid(env, "user", local)


def sid_from_guid(g):
    b = uuid.UUID(g).bytes_le
    parts = [int.from_bytes(b[i:i + 4], "little") for i in range(0, 16, 4)]
    return "S-1-12-1-" + "-".join(str(p) for p in parts)


def build_groups(env):
    out = []
    domain = TENANTS[env]["domain"]
    for name, desc, rule, kind in GROUPS:
        i = group_id(env, name)
        created = _pick(D(2023, 3, 1), D(2024, 9, 1), "group", name)
        if env == "prod":
            created = created + datetime.timedelta(seconds=_h("gprod", name) % (20 * 86400))
        created_s = fmt(created, env + name, frac=False)
        unified = kind == "unified"
        nick = slug(name).replace("-", "") if unified else gid(env, "nick", name)[:8] + "-" + gid(env, "nick2", name)[:1]
        g = {
            "id": i,
            "deletedDateTime": None,
            "classification": None,
            "createdDateTime": created_s,
            "creationOptions": [],
            "description": desc,
            "displayName": name,
            "expirationDateTime": None,
            "groupTypes": (["Unified"] if unified else []) + (["DynamicMembership"] if rule else []),
            "isAssignableToRole": None,
            "mail": ("%s@%s" % (nick, domain)) if unified else None,
            "mailEnabled": unified,
            "mailNickname": nick,
            "membershipRule": rule,
            "membershipRuleProcessingState": "On" if rule else None,
            "onPremisesDomainName": None,
            "onPremisesLastSyncDateTime": None,
            "onPremisesNetBiosName": None,
            "onPremisesSamAccountName": None,
            "onPremisesSecurityIdentifier": None,
            "onPremisesSyncEnabled": None,
            "preferredDataLocation": None,
            "preferredLanguage": None,
            "proxyAddresses": (["SMTP:%s@%s" % (nick, domain)] if unified else []),
            "renewedDateTime": created_s,
            "resourceBehaviorOptions": [],
            "resourceProvisioningOptions": [],
            "securityEnabled": not unified,
            "securityIdentifier": sid_from_guid(i),
            "theme": None,
            "uniqueName": None,
            "visibility": "Private" if unified else None,
            "onPremisesProvisioningErrors": [],
            "serviceProvisioningErrors": [],
        }
        if name == "SG-Intune-Admins":
            g["isAssignableToRole"] = True
        out.append(g)
    return out


def build_users(env):
    domain = TENANTS[env]["domain"]
    out = []
    for local, display, given, surname, title, enabled in USERS:
        out.append({
            "businessPhones": [],
            "displayName": display,
            "givenName": given,
            "jobTitle": title,
            "mail": None,
            "mobilePhone": None,
            "officeLocation": None,
            "preferredLanguage": None,
            "surname": surname,
            "userPrincipalName": "%s@%s" % (local, domain),
            "id": user_id(env, local),
            "accountEnabled": enabled,
        })
    return out


# --------------------------------------------------------------------------------------------
# assignment filters, scope tags, notification templates
# --------------------------------------------------------------------------------------------
FILTERS = [
    ("FLT-WIN-Corporate", "Corporate-owned Windows devices.", "windows10AndLater",
     '(device.deviceOwnership -eq "Corporate")', ()),
    ("FLT-WIN-Lab-Instruments", "Lab instrument PCs (GxP validated). Use as exclude filter on baselines.",
     "windows10AndLater", '(device.deviceName -startsWith "LAB-") or (device.model -contains "OptiPlex XE4")',
     ("Pharma-Lab",)),
    ("FLT-IOS-Corporate-ADE", "iPhones and iPads enrolled through Automated Device Enrollment.", "iOS",
     '(device.enrollmentProfileName -eq "CP-ADE-iOS-Corporate") and (device.deviceOwnership -eq "Corporate")',
     ("EMEA", "AMER")),
]
FILTER_NAMES = {f[0] for f in FILTERS}


def filter_id(env, name):
    assert name in FILTER_NAMES, name
    return gid(env, "assignmentFilter", name)


def build_filters(env):
    out = []
    for name, desc, platform, rule, tg in FILTERS:
        c, m = times(env, "assignmentFilter", name)
        out.append({
            "id": filter_id(env, name),
            "createdDateTime": c,
            "lastModifiedDateTime": m,
            "displayName": name,
            "description": desc,
            "platform": platform,
            "rule": rule,
            "roleScopeTags": tags(env, *tg),
            "payloads": [],
            "assignmentFilterManagementType": "devices",
        })
    return out


def build_scope_tags(env):
    out = []
    for name, i in sorted(TENANTS[env]["scopeTags"].items(), key=lambda kv: int(kv[1])):
        out.append({"id": i, "displayName": name, "description": SCOPE_TAG_DESCRIPTIONS[name],
                    "isBuiltIn": name == "Default", "assignments": []})
    return out


NOTIFICATION_TEMPLATES = [
    ("NT-Compliance-FirstNotice", "First notice sent as soon as a device becomes non-compliant.", [
        ("en-us", True, "Action required: {{DeviceName}} is not compliant",
         "Hello {{UserName}},\n\nYour device {{DeviceName}} ({{OSAndVersion}}) no longer meets the Contoso Pharma security requirements and has been marked as non-compliant.\n\nOpen the Company Portal app and select \"Check status\" to see what needs to be fixed. If the device stays non-compliant, access to corporate email and files will be blocked.\n\nContoso Pharma Service Desk - ext. 4357"),
        ("de-de", False, "Handlungsbedarf: {{DeviceName}} ist nicht konform",
         "Hallo {{UserName}},\n\nIhr Gerät {{DeviceName}} ({{OSAndVersion}}) erfüllt die Sicherheitsanforderungen von Contoso Pharma nicht mehr und wurde als nicht konform markiert.\n\nÖffnen Sie die Unternehmensportal-App und wählen Sie \"Status überprüfen\". Bleibt das Gerät nicht konform, wird der Zugriff auf E-Mail und Dateien gesperrt.\n\nContoso Pharma Service Desk - Durchwahl 4357"),
    ]),
    ("NT-Compliance-FinalWarning", "Final warning sent 48 hours after a device became non-compliant, before access is blocked.", [
        ("en-us", True, "Final warning: access from {{DeviceName}} will be blocked",
         "Hello {{UserName}},\n\nYour device {{DeviceName}} has been non-compliant for 48 hours. Access to Contoso Pharma resources from this device will be blocked within 24 hours.\n\nPlease fix the issues listed in the Company Portal app or contact the Service Desk (ext. 4357) today."),
    ]),
]


def template_id(env, name):
    assert name in {t[0] for t in NOTIFICATION_TEMPLATES}, name
    return gid(env, "notificationMessageTemplate", name)


def build_notification_templates(env):
    out = []
    for name, desc, msgs in NOTIFICATION_TEMPLATES:
        tid = template_id(env, name)
        c, m = times(env, "notificationMessageTemplate", name)
        out.append({
            "id": tid,
            "lastModifiedDateTime": m,
            "displayName": name,
            "description": desc,
            "defaultLocale": "en-us",
            "brandingOptions": "includeCompanyLogo,includeCompanyName,includeContactInformation,includeCompanyPortalLink",
            "roleScopeTagIds": tags(env),
            "localizedNotificationMessages@odata.context":
                BETA + "deviceManagement/notificationMessageTemplates('%s')/localizedNotificationMessages" % tid,
            "localizedNotificationMessages": [{
                "id": gid(env, "localizedNotificationMessage", name, locale),
                "lastModifiedDateTime": m,
                "locale": locale,
                "subject": subject,
                "messageTemplate": body,
                "isDefault": default,
            } for locale, default, subject, body in msgs],
        })
    return out


# --------------------------------------------------------------------------------------------
# assignments
# --------------------------------------------------------------------------------------------
ALL_DEVICES = "adadadad-808e-44e2-905a-0b7873a8a531"
ALL_USERS = "acacacac-9df4-4c7d-9d50-4ef0226f57a9"


def target(env, spec):
    """spec: ("group"|"exclude"|"allDevices"|"allUsers", group name or None, filter name or None, filter type)."""
    kind, name = spec[0], spec[1]
    filt = spec[2] if len(spec) > 2 else None
    ftype = spec[3] if len(spec) > 3 else ("include" if filt else "none")
    t = {
        "group": "#microsoft.graph.groupAssignmentTarget",
        "exclude": "#microsoft.graph.exclusionGroupAssignmentTarget",
        "allDevices": "#microsoft.graph.allDevicesAssignmentTarget",
        "allUsers": "#microsoft.graph.allLicensedUsersAssignmentTarget",
    }[kind]
    tgt = {"@odata.type": t,
           "deviceAndAppManagementAssignmentFilterId": filter_id(env, filt) if filt else None,
           "deviceAndAppManagementAssignmentFilterType": ftype}
    if kind in ("group", "exclude"):
        tgt["groupId"] = group_id(env, name)
        key = tgt["groupId"]
    else:
        key = ALL_DEVICES if kind == "allDevices" else ALL_USERS
    return key, tgt


def assignments(env, pid, specs, intent=False, source=True, extra=None):
    out = []
    for spec in specs:
        key, tgt = target(env, spec)
        a = {"id": "%s_%s" % (pid, key)}
        if source:
            a["source"] = "direct"
            a["sourceId"] = pid
        if intent:
            a["intent"] = "apply"
        if extra:
            a.update(extra)
        a["target"] = tgt
        out.append(a)
    return out


def entity(collection, obj, version="beta"):
    base = BETA if version == "beta" else V1
    return dict([("@odata.context", base + collection + "/$entity")] + list(obj.items()))


def listing(collection, objs, version="beta"):
    base = BETA if version == "beta" else V1
    return {"@odata.context": base + collection, "value": objs}


# --------------------------------------------------------------------------------------------
# 1. settings catalog (deviceManagement/configurationPolicies)
# --------------------------------------------------------------------------------------------
NO_TEMPLATE = {"templateId": "", "templateFamily": "none", "templateDisplayName": None, "templateDisplayVersion": None}
TEMPLATES = {
    "bitlocker": {"templateId": "46ddfc50-d10f-4867-b852-9434254b3bff_1", "templateFamily": "endpointSecurityDiskEncryption",
                  "templateDisplayName": "BitLocker", "templateDisplayVersion": "Version 1"},
    "asr": {"templateId": "e8c053d6-9f95-42b1-a7f1-ebfd71c67a4b_1", "templateFamily": "endpointSecurityAttackSurfaceReduction",
            "templateDisplayName": "Attack Surface Reduction Rules", "templateDisplayVersion": "Version 1"},
    "laps": {"templateId": "adc46e5a-f4aa-4ff6-aeff-4f27bc525796_1", "templateFamily": "endpointSecurityAccountProtection",
             "templateDisplayName": "Local admin password solution (Windows LAPS)", "templateDisplayVersion": "Version 1"},
    "mac-defender": {"templateId": "2d345ec2-c817-49e5-9156-3ed416dc972a_1", "templateFamily": "endpointSecurityAntivirus",
                     "templateDisplayName": "Microsoft Defender Antivirus", "templateDisplayVersion": "Version 1"},
}

SETTINGS_CATALOG = [
    # key, name, description, platforms, technologies, scope tags, assignments, flags
    ("defender-av", "WIN-SC-Defender-Antivirus",
     "Microsoft Defender Antivirus baseline for corporate Windows devices (CIS L1 derived, ASR rules managed separately).",
     "windows10", "mdm", ("EMEA", "AMER"),
     [("group", "SG-Intune-All-Corporate-Devices", "FLT-WIN-Corporate", "include"), ("exclude", "SG-Pharma-Lab-Devices")],
     {"changed": True}),
    ("device-security", "WIN-SC-Device-Security",
     "Local security options, Kerberos and logon hardening for corporate Windows devices.",
     "windows10", "mdm", (),
     [("allDevices", None, "FLT-WIN-Corporate", "include")], {}),
    ("auditing", "WIN-SC-Audit-Policy",
     "Advanced audit policy. Required for GxP audit trails; do not reduce without QA approval.",
     "windows10", "mdm", ("Pharma-Lab",),
     [("allDevices", None)], {}),
    ("bitlocker", "WIN-SC-BitLocker",
     "BitLocker: XTS-AES 256 on OS and fixed drives, recovery keys escrowed to Entra ID.",
     "windows10", "mdm", ("EMEA", "AMER"),
     [("group", "SG-Intune-All-Corporate-Devices"), ("exclude", "SG-Pharma-Lab-Devices")],
     {"changed": True}),
    ("asr", "WIN-SC-Defender-ASR",
     "Attack surface reduction rules in block mode.",
     "windows10", "mdm,microsoftSense", (),
     [("group", "SG-Intune-Pilot-Devices"),
      ("group", "SG-Intune-All-Corporate-Devices", "FLT-WIN-Lab-Instruments", "exclude")], {}),
    ("laps", "WIN-SC-Windows-LAPS",
     "Windows LAPS: manage the built-in administrator, back up to Entra ID, rotate after use.",
     "windows10", "mdm", (),
     [("allDevices", None, "FLT-WIN-Corporate", "include")], {}),
    ("hello", "Windows Hello for Business",  # legacy name, breaks the naming convention
     "", "windows10", "mdm", (),
     [("allUsers", None)], {}),
    ("wu", "WIN-SC-Windows-Update-Policy",
     "Windows Update CSP settings complementing the WUfB rings.",
     "windows10", "mdm", (),
     [("group", "SG-Intune-WUfB-Ring2-Broad"), ("group", "SG-Intune-WUfB-Ring1-Pilot")], {}),
    ("devicelock", "WIN-SC-Device-Lock",
     "Password and inactivity lock for Windows devices.",
     "windows10", "mdm", (),
     [("group", "SG-Intune-Windows-Devices"), ("exclude", "SG-Intune-Compliance-Exclude")], {}),
    ("edge", "WIN-SC-Edge-Baseline",
     "Microsoft Edge security baseline (NCSC derived).",
     "windows10", "mdm", (),
     [("allUsers", None)], {}),
    ("mac-filevault", "MAC-SC-FileVault",
     "FileVault enforced at Setup Assistant, personal recovery key escrowed to Intune.",
     "macOS", "mdm,appleRemoteManagement", ("EMEA", "AMER"),
     [("group", "SG-Intune-macOS-Devices")], {}),
    ("mac-gatekeeper", "MAC-SC-Gatekeeper",
     "Gatekeeper: App Store and identified developers only.",
     "macOS", "mdm,appleRemoteManagement", (),
     [("group", "SG-Intune-macOS-Devices")], {}),
    ("mac-defender", "MAC-SC-Defender-Antivirus",
     "Microsoft Defender for Endpoint on macOS: real-time protection and tamper protection.",
     "macOS", "mdm,microsoftSense", (),
     [("group", "SG-Intune-macOS-Devices")], {}),
    ("ios-updates", "IOS-SC-Software-Updates",
     "Declarative software update enforcement for corporate iPhones and iPads.",
     "iOS", "mdm,appleRemoteManagement", ("EMEA", "AMER"),
     [("group", "SG-Intune-iOS-Devices", "FLT-IOS-Corporate-ADE", "include")], {}),
    ("printing", "WIN-SC-Print-Spooler-Hardening",
     "PrintNightmare mitigations: RPC over TCP only, driver installation restricted to administrators. NEW - piloting in DEV.",
     "windows10", "mdm", (),
     [("group", "SG-Intune-PrintHardening-Pilot")],  # this group was deleted: dangling reference
     {"dev_only": True}),
]


def sc_settings(env, key):
    insts = [json.loads(json.dumps(i)) for i in SC_SRC[key]]
    if key == "defender-av":
        # DEV raised the extended cloud check timeout; not promoted yet (PROD still 30).
        for i in insts:
            if i["settingDefinitionId"] == "device_vendor_msft_policy_config_defender_cloudextendedtimeout":
                i["simpleSettingValue"]["value"] = 50 if env == "dev" else 30
    if key == "bitlocker" and env == "prod":
        # DEV added recovery password rotation; not promoted yet.
        insts = [i for i in insts if i["settingDefinitionId"] != "device_vendor_msft_bitlocker_configurerecoverypasswordrotation"]
    return [{"id": str(n), "settingInstance": i} for n, i in enumerate(insts)]


def build_settings_catalog(env):
    out = []
    for key, name, desc, platforms, tech, tg, asg, flags in SETTINGS_CATALOG:
        if flags.get("dev_only") and env != "dev":
            continue
        pid = gid(env, "configurationPolicy", name)
        c, m = times(env, "configurationPolicy", name, flags.get("changed", False), flags.get("dev_only", False))
        settings = sc_settings(env, key)
        a = assignments(env, pid, asg)
        out.append((slug(name), entity("deviceManagement/configurationPolicies", {
            "createdDateTime": c,
            "creationSource": None,
            "description": desc,
            "lastModifiedDateTime": m,
            "name": name,
            "platforms": platforms,
            "priorityMetaData": None,
            "roleScopeTagIds": tags(env, *tg),
            "settingCount": len(settings),
            "technologies": tech,
            "id": pid,
            "templateReference": dict(TEMPLATES.get(key, NO_TEMPLATE)),
            "isAssigned": bool(a),
            "settings": settings,
            "assignments": a,
        })))
    return out


# --------------------------------------------------------------------------------------------
# 2. device configurations
# --------------------------------------------------------------------------------------------
def encrypted_blob(env):
    """An encrypted-looking value as Graph returns for isEncrypted OMA settings."""
    raw = b"".join(hashlib.sha256(("%s/oma-secret/%d" % (env, n)).encode()).digest() for n in range(6))
    return b64(b"\x30\x82\x01\x3c\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x03\xa0" + raw)


def devconf_base(env, odt, name, desc, tg, changed=False):
    pid = gid(env, "deviceConfiguration", name)
    c, m = times(env, "deviceConfiguration", name, changed)
    return pid, {
        "@odata.type": "#microsoft.graph." + odt,
        "id": pid,
        "lastModifiedDateTime": m,
        "roleScopeTagIds": tags(env, *tg),
        "supportsScopeTags": True,
        "deviceManagementApplicabilityRuleOsEdition": None,
        "deviceManagementApplicabilityRuleOsVersion": None,
        "deviceManagementApplicabilityRuleDeviceMode": None,
        "createdDateTime": c,
        "description": desc,
        "displayName": name,
        "version": int_version(env, name, changed),
    }


def wufb(quality_deferral, feature_deferral, q_deadline, f_deadline, grace):
    # shape derived from CES2026-IntuneCD Backup/Device Configurations/POC_WIN_D_CO_SBL_MSZT_Updates_windowsUpdateForBusinessConfiguration.json
    return {
        "deliveryOptimizationMode": "userDefined",
        "prereleaseFeatures": "userDefined",
        "automaticUpdateMode": "autoInstallAtMaintenanceTime",
        "microsoftUpdateServiceAllowed": True,
        "driversExcluded": False,
        "installationSchedule": {
            "@odata.type": "#microsoft.graph.windowsUpdateActiveHoursInstall",
            "activeHoursStart": "07:00:00.0000000",
            "activeHoursEnd": "19:00:00.0000000",
        },
        "qualityUpdatesDeferralPeriodInDays": quality_deferral,
        "featureUpdatesDeferralPeriodInDays": feature_deferral,
        "qualityUpdatesPaused": False,
        "featureUpdatesPaused": False,
        "qualityUpdatesPauseExpiryDateTime": "0001-01-01T00:00:00Z",
        "featureUpdatesPauseExpiryDateTime": "0001-01-01T00:00:00Z",
        "businessReadyUpdatesOnly": "userDefined",
        "skipChecksBeforeRestart": False,
        "updateWeeks": None,
        "qualityUpdatesPauseStartDate": None,
        "featureUpdatesPauseStartDate": None,
        "featureUpdatesRollbackWindowInDays": 30,
        "qualityUpdatesWillBeRolledBack": False,
        "featureUpdatesWillBeRolledBack": False,
        "qualityUpdatesRollbackStartDateTime": "0001-01-01T00:00:00Z",
        "featureUpdatesRollbackStartDateTime": "0001-01-01T00:00:00Z",
        "engagedRestartDeadlineInDays": None,
        "engagedRestartSnoozeScheduleInDays": None,
        "engagedRestartTransitionScheduleInDays": None,
        "deadlineForFeatureUpdatesInDays": f_deadline,
        "deadlineForQualityUpdatesInDays": q_deadline,
        "deadlineGracePeriodInDays": grace,
        "postponeRebootUntilAfterDeadline": False,
        "autoRestartNotificationDismissal": "notConfigured",
        "scheduleRestartWarningInHours": None,
        "scheduleImminentRestartWarningInMinutes": None,
        "userPauseAccess": "disabled",
        "userWindowsUpdateScanAccess": "enabled",
        "updateNotificationLevel": "defaultNotifications",
        "allowWindows11Upgrade": True,
    }


LOGIN_WINDOW_MOBILECONFIG = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>PayloadContent</key>
	<array>
		<dict>
			<key>PayloadDisplayName</key>
			<string>Login Window</string>
			<key>PayloadIdentifier</key>
			<string>com.contoso-pharma.loginwindow.7d0a9c1e</string>
			<key>PayloadType</key>
			<string>com.apple.loginwindow</string>
			<key>PayloadUUID</key>
			<string>7D0A9C1E-3B52-4C8E-9F21-5A6B0C4D2E11</string>
			<key>PayloadVersion</key>
			<integer>1</integer>
			<key>SHOWFULLNAME</key>
			<true/>
			<key>DisableGuestAccount</key>
			<true/>
			<key>LoginwindowText</key>
			<string>Property of Contoso Pharma. Authorised use only.</string>
			<key>RestartDisabledWhileLoggedIn</key>
			<false/>
		</dict>
	</array>
	<key>PayloadDisplayName</key>
	<string>Mac Login Window Settings</string>
	<key>PayloadIdentifier</key>
	<string>com.contoso-pharma.loginwindow</string>
	<key>PayloadType</key>
	<string>Configuration</string>
	<key>PayloadUUID</key>
	<string>0E4F2A77-91C3-4B6D-8E15-2C9A7B3D5F60</string>
	<key>PayloadVersion</key>
	<integer>1</integer>
</dict>
</plist>
"""


def build_device_configurations(env):
    out = []
    C_ = "deviceManagement/deviceConfigurations"

    # Windows Wi-Fi, WPA2-Personal with a pre-shared key (secret)
    pid, o = devconf_base(env, "windowsWifiConfiguration", "WIN-DC-WiFi-Guest",
                          "Guest Wi-Fi for corporate laptops in meeting rooms (WPA2-Personal).", ("EMEA",))
    o.update({
        "wifiSecurityType": "wpa2Personal",
        "meteredConnectionLimit": "unrestricted",
        "ssid": "CP-Guest",
        "networkName": "CP-Guest",
        "connectAutomatically": True,
        "connectToPreferredNetwork": True,
        "connectWhenNetworkNameIsHidden": False,
        "proxySetting": "none",
        "proxyManualAddress": None,
        "proxyManualPort": None,
        "proxyAutomaticConfigurationUrl": None,
        "forceFIPSCompliance": False,
        "preSharedKey": TENANTS[env]["wifiPsk"],
        "assignments": assignments(env, pid, [("group", "SG-Intune-All-Corporate-Devices", "FLT-WIN-Corporate", "include")], intent=True),
    })
    out.append((slug(o["displayName"]), entity(C_, o)))

    # Windows custom OMA-URI with one encrypted string
    pid, o = devconf_base(env, "windows10CustomConfiguration", "WIN-DC-OMA-Lab-Workstations",
                          "Custom OMA-URI settings for GxP lab workstations: time zone, consumer features, local instrument service account.",
                          ("Pharma-Lab",))
    o.update({
        "omaSettings": [
            {"@odata.type": "#microsoft.graph.omaSettingString",
             "displayName": "Time zone",
             "description": "Lab PCs log instrument data in local time.",
             "omaUri": "./Device/Vendor/MSFT/Policy/Config/TimeLanguageSettings/ConfigureTimeZone",
             "secretReferenceValueId": None,
             "isEncrypted": False,
             "value": "W. Europe Standard Time"},
            {"@odata.type": "#microsoft.graph.omaSettingInteger",
             "displayName": "Disable consumer features",
             "description": None,
             "omaUri": "./Device/Vendor/MSFT/Policy/Config/Experience/AllowWindowsConsumerFeatures",
             "secretReferenceValueId": None,
             "isEncrypted": False,
             "value": 0,
             "isReadOnly": False},
            {"@odata.type": "#microsoft.graph.omaSettingInteger",
             "displayName": "Block Microsoft accounts",
             "description": None,
             "omaUri": "./Device/Vendor/MSFT/Policy/Config/Accounts/AllowMicrosoftAccountConnection",
             "secretReferenceValueId": None,
             "isEncrypted": False,
             "value": 0,
             "isReadOnly": False},
            {"@odata.type": "#microsoft.graph.omaSettingString",
             "displayName": "Instrument service account password",
             "description": "Local account used by the chromatography data system acquisition service.",
             "omaUri": "./Device/Vendor/MSFT/Accounts/Users/labacq/Password",
             "secretReferenceValueId": gid(env, "secretReferenceValue", "WIN-DC-OMA-Lab-Workstations", "labacq"),
             "isEncrypted": True,
             "value": encrypted_blob(env)},
        ],
        "assignments": assignments(env, pid, [("group", "SG-Pharma-Lab-Devices")], intent=True),
    })
    out.append((slug(o["displayName"]), entity(C_, o)))

    # WUfB rings
    for name, desc, cfg, asg in [
        ("WIN-DC-WUfB-Ring1-Pilot", "Update ring 1: pilot devices, no deferral.", wufb(0, 0, 2, 2, 1),
         [("group", "SG-Intune-WUfB-Ring1-Pilot")]),
        ("WIN-DC-WUfB-Ring2-Broad", "Update ring 2: all corporate Windows devices, 7 day quality deferral.", wufb(7, 30, 5, 7, 2),
         [("group", "SG-Intune-WUfB-Ring2-Broad"), ("exclude", "SG-Intune-WUfB-Ring1-Pilot"),
          ("exclude", "SG-Pharma-Lab-Devices")]),
    ]:
        pid, o = devconf_base(env, "windowsUpdateForBusinessConfiguration", name, desc, ())
        o.update(cfg)
        o["assignments"] = assignments(env, pid, asg, intent=True)
        out.append((slug(name), entity(C_, o)))

    # iOS enterprise Wi-Fi (shape derived from CES2026-IntuneCD Backup/Device Configurations/*_iosEnterpriseWiFiConfiguration.json)
    pid, o = devconf_base(env, "iosEnterpriseWiFiConfiguration", "IOS-DC-WiFi-Corporate",
                          "Corporate WPA2-Enterprise Wi-Fi (PEAP) for iPhones and iPads.", ("EMEA", "AMER"))
    o.update({
        "networkName": "CP-Corporate",
        "ssid": "CP-Corporate",
        "connectAutomatically": True,
        "connectWhenNetworkNameIsHidden": False,
        "wiFiSecurityType": "wpa2Enterprise",
        "proxySettings": "none",
        "proxyManualAddress": None,
        "proxyManualPort": None,
        "proxyAutomaticConfigurationUrl": None,
        "disableMacAddressRandomization": True,
        "preSharedKey": None,
        "eapType": "peap",
        "eapFastConfiguration": None,
        "trustedServerCertificateNames": ["radius01.corp.contoso-pharma.com", "radius02.corp.contoso-pharma.com"],
        "authenticationMethod": "usernameAndPassword",
        "innerAuthenticationProtocolForEapTtls": None,
        "outerIdentityPrivacyTemporaryValue": "anonymous",
        "usernameFormatString": None,
        "passwordFormatString": None,
        "assignments": assignments(env, pid, [("group", "SG-Intune-iOS-Devices", "FLT-IOS-Corporate-ADE", "include")], intent=True),
    })
    out.append((slug(o["displayName"]), entity(C_, o)))

    # macOS custom configuration (legacy name: breaks the naming convention)
    pid, o = devconf_base(env, "macOSCustomConfiguration", "Mac Login Window Settings",
                          "Login window banner and guest account. Created before the naming convention.", ())
    o.update({
        "payloadName": "Mac Login Window Settings",
        "payloadFileName": "cp-loginwindow.mobileconfig",
        "payload": b64(LOGIN_WINDOW_MOBILECONFIG.encode("utf-8")),
        "deploymentChannel": "deviceChannel",
        "assignments": assignments(env, pid, [("group", "SG-Intune-macOS-Devices")], intent=True),
    })
    out.append((slug(o["displayName"]), entity(C_, o)))

    # Endpoint analytics
    pid, o = devconf_base(env, "windowsHealthMonitoringConfiguration", "WIN-DC-Endpoint-Analytics",
                          "Enables Endpoint analytics data collection (boot performance, Windows updates).", ())
    o.update({
        "allowDeviceHealthMonitoring": "enabled",
        "configDeviceHealthMonitoringScope": "bootPerformance,windowsUpdates",
        "configDeviceHealthMonitoringCustomScope": None,
        "assignments": assignments(env, pid, [("allDevices", None)], intent=True),
    })
    out.append((slug(o["displayName"]), entity(C_, o)))
    return out


# --------------------------------------------------------------------------------------------
# 3. compliance policies
# --------------------------------------------------------------------------------------------
def actions(env, name, spec):
    """spec: list of (actionType, graceHours, template name or None, [cc group names])."""
    rule_id = gid(env, "scheduledActionsForRule", name)
    cfgs = []
    for n, (atype, grace, tmpl, cc) in enumerate(spec):
        cfgs.append({
            "id": gid(env, "scheduledActionConfiguration", name, str(n)),
            "gracePeriodHours": grace,
            "actionType": atype,
            "notificationTemplateId": template_id(env, tmpl) if tmpl else "00000000-0000-0000-0000-000000000000",
            "notificationMessageCCList": [group_id(env, g) for g in cc],
        })
    return [{"id": rule_id, "ruleName": "PasswordRequired", "scheduledActionConfigurations": cfgs}]


def comp_base(env, odt, name, desc, tg, changed=False):
    pid = gid(env, "deviceCompliancePolicy", name)
    c, m = times(env, "deviceCompliancePolicy", name, changed)
    return pid, {
        "@odata.type": "#microsoft.graph." + odt,
        "id": pid,
        "createdDateTime": c,
        "description": desc,
        "lastModifiedDateTime": m,
        "displayName": name,
        "version": int_version(env, name, changed),
        "roleScopeTagIds": tags(env, *tg),
    }


def windows_compliance(**over):
    # property set derived from CES2026-IntuneCD Backup/Compliance Policies/Policies/*_windows10CompliancePolicy.json
    p = {
        "passwordRequired": False,
        "passwordBlockSimple": False,
        "passwordRequiredToUnlockFromIdle": False,
        "passwordMinutesOfInactivityBeforeLock": None,
        "passwordExpirationDays": None,
        "passwordMinimumLength": None,
        "passwordMinimumCharacterSetCount": None,
        "passwordRequiredType": "deviceDefault",
        "passwordPreviousPasswordBlockCount": None,
        "requireHealthyDeviceReport": False,
        "osMinimumVersion": None,
        "osMaximumVersion": None,
        "mobileOsMinimumVersion": None,
        "mobileOsMaximumVersion": None,
        "earlyLaunchAntiMalwareDriverEnabled": False,
        "bitLockerEnabled": False,
        "secureBootEnabled": False,
        "codeIntegrityEnabled": False,
        "memoryIntegrityEnabled": False,
        "kernelDmaProtectionEnabled": False,
        "virtualizationBasedSecurityEnabled": False,
        "firmwareProtectionEnabled": False,
        "storageRequireEncryption": False,
        "activeFirewallRequired": False,
        "defenderEnabled": False,
        "defenderVersion": None,
        "signatureOutOfDate": False,
        "rtpEnabled": False,
        "antivirusRequired": False,
        "antiSpywareRequired": False,
        "deviceThreatProtectionEnabled": False,
        "deviceThreatProtectionRequiredSecurityLevel": "unavailable",
        "configurationManagerComplianceRequired": False,
        "tpmRequired": False,
        "deviceCompliancePolicyScript": None,
        "validOperatingSystemBuildRanges": [],
        "wslDistributions": [],
    }
    p.update(over)
    return p


def build_compliance(env):
    out = []
    C_ = "deviceManagement/deviceCompliancePolicies"

    name = "WIN-CP-Baseline"
    pid, o = comp_base(env, "windows10CompliancePolicy", name,
                       "Windows baseline: BitLocker, Secure Boot, code integrity, TPM, firewall, Defender, minimum OS build.",
                       ("EMEA", "AMER"), changed=True)
    o.update(windows_compliance(
        # DEV raised the minimum OS to Windows 11 23H2; PROD still allows Windows 10 22H2.
        osMinimumVersion="10.0.22631.4751" if env == "dev" else "10.0.19045.5011",
        bitLockerEnabled=True, secureBootEnabled=True, codeIntegrityEnabled=True, tpmRequired=True,
        storageRequireEncryption=True, activeFirewallRequired=True, defenderEnabled=True,
        signatureOutOfDate=True, rtpEnabled=True, antivirusRequired=True, antiSpywareRequired=True,
        deviceThreatProtectionEnabled=True, deviceThreatProtectionRequiredSecurityLevel="medium"))
    o["scheduledActionsForRule"] = actions(env, name, [
        ("block", 72, None, []),
        ("notification", 0, "NT-Compliance-FirstNotice", ["SG-Intune-Admins"]),
        ("notification", 48, "NT-Compliance-FinalWarning", []),
    ])
    o["assignments"] = assignments(env, pid, [
        ("group", "SG-Intune-Windows-Devices", "FLT-WIN-Lab-Instruments", "exclude"),
        ("exclude", "SG-Intune-Compliance-Exclude")])
    out.append((slug(name), entity(C_, o)))

    name = "WIN-CP-Lab-Instruments"
    pid, o = comp_base(env, "windows10CompliancePolicy", name,
                       "Instrument PCs validated without disk encryption (vendor acquisition software). Firewall and Defender only.",
                       ("Pharma-Lab",))
    o.update(windows_compliance(   # no BitLocker / no storage encryption: intentional lint finding
        osMinimumVersion="10.0.19044.0", secureBootEnabled=True, codeIntegrityEnabled=True,
        activeFirewallRequired=True, defenderEnabled=True, rtpEnabled=True, antivirusRequired=True))
    o["scheduledActionsForRule"] = actions(env, name, [("block", 0, None, [])])
    o["assignments"] = assignments(env, pid, [("group", "SG-Pharma-Lab-Devices")])
    out.append((slug(name), entity(C_, o)))

    name = "IOS-CP-Baseline"
    pid, o = comp_base(env, "iosCompliancePolicy", name, "iOS/iPadOS baseline for corporate and personal devices.", ("EMEA", "AMER"))
    o.update({
        "passcodeBlockSimple": True,
        "passcodeExpirationDays": None,
        "passcodeMinimumLength": 6,
        "passcodeMinutesOfInactivityBeforeLock": 0,
        "passcodeMinutesOfInactivityBeforeScreenTimeout": 5,
        "passcodePreviousPasscodeBlockCount": None,
        "passcodeMinimumCharacterSetCount": None,
        "passcodeRequiredType": "numeric",
        "passcodeRequired": True,
        "osMinimumVersion": "17.6",
        "osMaximumVersion": None,
        "osMinimumBuildVersion": None,
        "osMaximumBuildVersion": None,
        "securityBlockJailbrokenDevices": True,
        "deviceThreatProtectionEnabled": False,
        "deviceThreatProtectionRequiredSecurityLevel": "unavailable",
        "advancedThreatProtectionRequiredSecurityLevel": "unavailable",
        "managedEmailProfileRequired": False,
        "restrictedApps": [],
    })
    o["scheduledActionsForRule"] = actions(env, name, [
        ("block", 0, None, []),
        ("notification", 0, "NT-Compliance-FirstNotice", ["SG-Intune-Admins"]),
    ])
    o["assignments"] = assignments(env, pid, [("group", "SG-Intune-iOS-Devices")])
    out.append((slug(name), entity(C_, o)))

    name = "AND-CP-WorkProfile"
    pid, o = comp_base(env, "androidWorkProfileCompliancePolicy", name, "Android Enterprise personally-owned work profile.", ())
    o.update({
        "passwordRequired": True,
        "passwordMinimumLength": 6,
        "passwordRequiredType": "numericComplex",
        "requiredPasswordComplexity": "medium",
        "passwordMinutesOfInactivityBeforeLock": 5,
        "passwordExpirationDays": None,
        "passwordPreviousPasswordBlockCount": None,
        "passwordSignInFailureCountBeforeFactoryReset": None,
        "workProfilePasswordExpirationInDays": None,
        "workProfilePasswordMinimumLength": 6,
        "workProfileInactiveBeforeScreenLockInMinutes": 5,
        "workProfilePreviousPasswordBlockCount": None,
        "workProfilePasswordRequiredType": "numericComplex",
        "workProfileRequiredPasswordComplexity": "medium",
        "workProfileRequirePassword": True,
        "securityPreventInstallAppsFromUnknownSources": True,
        "securityDisableUsbDebugging": True,
        "securityRequireVerifyApps": True,
        "deviceThreatProtectionEnabled": False,
        "deviceThreatProtectionRequiredSecurityLevel": "unavailable",
        "advancedThreatProtectionRequiredSecurityLevel": "unavailable",
        "securityBlockJailbrokenDevices": True,
        "osMinimumVersion": "13.0",
        "osMaximumVersion": None,
        "minAndroidSecurityPatchLevel": "2025-06-01",
        "storageRequireEncryption": True,
        "securityRequireSafetyNetAttestationBasicIntegrity": True,
        "securityRequireSafetyNetAttestationCertifiedDevice": True,
        "securityRequireGooglePlayServices": True,
        "securityRequireUpToDateSecurityProviders": True,
        "securityRequireCompanyPortalAppIntegrity": True,
        "securityRequiredAndroidSafetyNetEvaluationType": "hardwareBacked",
    })
    o["scheduledActionsForRule"] = actions(env, name, [("block", 0, None, [])])
    o["assignments"] = assignments(env, pid, [("group", "SG-Intune-Licensed-Users")])
    out.append((slug(name), entity(C_, o)))

    name = "MAC-CP-Baseline"
    pid, o = comp_base(env, "macOSCompliancePolicy", name, "macOS baseline: FileVault, SIP, firewall, Gatekeeper.", ("EMEA", "AMER"))
    o.update({
        "passwordRequired": True,
        "passwordBlockSimple": True,
        "passwordExpirationDays": None,
        "passwordMinimumLength": 12,
        "passwordMinutesOfInactivityBeforeLock": 15,
        "passwordPreviousPasswordBlockCount": None,
        "passwordMinimumCharacterSetCount": None,
        "passwordRequiredType": "alphanumeric",
        "osMinimumVersion": "14.0",
        "osMaximumVersion": None,
        "osMinimumBuildVersion": None,
        "osMaximumBuildVersion": None,
        "systemIntegrityProtectionEnabled": True,
        "deviceThreatProtectionEnabled": False,
        "deviceThreatProtectionRequiredSecurityLevel": "unavailable",
        "advancedThreatProtectionRequiredSecurityLevel": "unavailable",
        "storageRequireEncryption": True,
        "gatekeeperAllowedAppSource": "macAppStoreAndIdentifiedDevelopers",
        "firewallEnabled": True,
        "firewallBlockAllIncoming": False,
        "firewallEnableStealthMode": True,
    })
    o["scheduledActionsForRule"] = actions(env, name, [
        ("block", 24, None, []),
        ("notification", 0, "NT-Compliance-FirstNotice", ["SG-Intune-Admins"]),
    ])
    o["assignments"] = assignments(env, pid, [("group", "SG-Intune-macOS-Devices")])
    out.append((slug(name), entity(C_, o)))
    return out


# --------------------------------------------------------------------------------------------
# 4./5. Conditional Access (v1.0)
# --------------------------------------------------------------------------------------------
NAMED_LOCATIONS = [
    ("NL-Allowed-Countries", "country", {"countriesAndRegions": ["BE", "CH", "DE", "FR", "GB", "IE", "NL", "US"],
                                         "includeUnknownCountriesAndRegions": False,
                                         "countryLookupMethod": "clientIpAddress"}),
    ("NL-HQ-Basel-Offices", "ip", {"isTrusted": True, "ipRanges": [
        {"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "203.0.113.0/25"},
        {"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "198.51.100.32/28"}]}),
    ("NL-Lab-Network-Cambridge", "ip", {"isTrusted": True, "ipRanges": [
        {"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "192.0.2.64/26"}]}),
    ("NL-Blocked-Countries", "country", {"countriesAndRegions": ["KP", "IR", "SY", "CU"],
                                         "includeUnknownCountriesAndRegions": True,
                                         "countryLookupMethod": "clientIpAddress"}),
]


def location_id(env, name):
    assert name in {n[0] for n in NAMED_LOCATIONS}, name
    return gid(env, "namedLocation", name)


def build_named_locations(env):
    out = []
    for name, kind, props in NAMED_LOCATIONS:
        c, m = times(env, "namedLocation", name)
        o = {"@odata.type": "#microsoft.graph.%sNamedLocation" % kind,
             "id": location_id(env, name), "displayName": name,
             "modifiedDateTime": m, "createdDateTime": c}
        o.update(json.loads(json.dumps(props)))
        out.append(o)
    return out


ROLE_IDS = {
    "Global Administrator": "62e90394-69f5-4237-9190-012177145e10",
    "Privileged Role Administrator": "e8611ab8-c189-46e8-94e1-60213ab1f814",
    "Security Administrator": "194ae4cb-b126-40b2-bd5b-6091b380977d",
    "Conditional Access Administrator": "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9",
    "Intune Administrator": "3a2c62db-5318-420d-8d74-23affee5d9d5",
    "Exchange Administrator": "29232cdf-9323-42fd-ade2-1d097af3e4de",
    "SharePoint Administrator": "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
    "User Administrator": "fe930be7-5e62-47db-91af-98c3a49a38b1",
    "Application Administrator": "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
    "Cloud Application Administrator": "158c047a-c907-4556-b7ef-446551a6b5f7",
}
AZURE_MANAGEMENT = "797f4846-ba00-4fd7-ba43-dac1f8f63013"
BG = {"users": ["breakglass01", "breakglass02"], "groups": ["CA-BreakGlassAccounts-Exclude"]}

CA_POLICIES = [
    # name, state (dev, prod), users, applications, clientAppTypes, extra conditions, grant, session, changed in dev
    ("CA001-Global-RequireMFA-AllUsers", ("enabled", "enabled"),
     {"includeUsers": ["All"], "exclude": BG}, {"includeApplications": ["All"]}, ["all"], {},
     ("OR", ["mfa"]), None, False),
    ("CA002-Global-BlockLegacyAuthentication", ("enabled", "enabled"),
     {"includeUsers": ["All"], "exclude": BG}, {"includeApplications": ["All"]}, ["exchangeActiveSync", "other"], {},
     ("OR", ["block"]), None, False),
    ("CA003-Global-BlockOutsideAllowedCountries", ("enabled", "enabled"),
     {"includeUsers": ["All"], "exclude": {"users": BG["users"] + ["svc-entrasync"], "groups": BG["groups"]}},
     {"includeApplications": ["All"]}, ["all"],
     {"locations": {"includeLocations": ["All"], "excludeLocations": ["NL-Allowed-Countries", "NL-HQ-Basel-Offices"]}},
     ("OR", ["block"]), None, False),
    ("CA004-Admins-RequireMFA-AdminRoles", ("enabled", "enabled"),
     {"includeRoles": list(ROLE_IDS.values()), "exclude": BG}, {"includeApplications": ["All"]}, ["all"], {},
     ("OR", ["mfa"]),
     {"disableResilienceDefaults": None, "applicationEnforcedRestrictions": None, "cloudAppSecurity": None,
      "persistentBrowser": {"mode": "never", "isEnabled": True},
      "signInFrequency": {"value": 4, "type": "hours", "authenticationType": "primaryAndSecondaryAuthentication",
                          "frequencyInterval": "timeBased", "isEnabled": True}},
     False),
    ("CA005-Global-RequireMFA-AzureManagement", ("enabled", "enabled"),
     # DEFECT: no break-glass exclusion
     {"includeUsers": ["All"], "exclude": {"users": [], "groups": []}},
     {"includeApplications": [AZURE_MANAGEMENT]}, ["all"], {},
     ("OR", ["mfa"]), None, False),
    ("CA006-Internals-RequireCompliantDevice-Windows", ("enabledForReportingButNotEnforced", "enabled"),
     {"includeGroups": ["SG-CA-Internal-Users"], "exclude": BG}, {"includeApplications": ["Office365"]}, ["all"],
     {"platforms": {"includePlatforms": ["windows"], "excludePlatforms": []}},
     ("OR", ["compliantDevice", "domainJoinedDevice"]), None, True),
    ("CA007-Internals-BlockHighRiskSignIn", ("enabledForReportingButNotEnforced", "enabledForReportingButNotEnforced"),
     {"includeGroups": ["SG-CA-Internal-Users"], "exclude": BG}, {"includeApplications": ["All"]}, ["all"],
     {"signInRiskLevels": ["high"]},
     ("OR", ["block"]), None, False),
    ("CA008-Global-RequireAppProtection-Mobile", ("enabled", "enabled"),
     {"includeUsers": ["All"], "exclude": BG}, {"includeApplications": ["Office365"]}, ["all"],
     {"platforms": {"includePlatforms": ["iOS", "android"], "excludePlatforms": []}},
     ("OR", ["compliantApplication"]), None, False),
    ("CA009-Guests-RequireMFA", ("disabled", "disabled"),
     {"includeUsers": ["GuestsOrExternalUsers"], "exclude": {"users": [], "groups": BG["groups"]}},
     {"includeApplications": ["All"]}, ["all"], {},
     ("OR", ["mfa"]), None, False),
]


def build_ca(env):
    out = []
    for name, states, users, apps, cat, extra, grant, session, changed in CA_POLICIES:
        c, m = times(env, "conditionalAccessPolicy", name, changed)
        ex = users.get("exclude", {"users": [], "groups": []})
        cond = {
            "userRiskLevels": [],
            "signInRiskLevels": list(extra.get("signInRiskLevels", [])),
            "clientAppTypes": list(cat),
            "servicePrincipalRiskLevels": [],
            "insiderRiskLevels": None,
            "platforms": extra.get("platforms"),
            "locations": None,
            "devices": None,
            "clientApplications": None,
            "authenticationFlows": None,
            "applications": {
                "includeApplications": list(apps["includeApplications"]),
                "excludeApplications": [],
                "includeUserActions": [],
                "includeAuthenticationContextClassReferences": [],
                "applicationFilter": None,
            },
            "users": {
                "includeUsers": list(users.get("includeUsers", [])),
                "excludeUsers": [user_id(env, u) for u in ex["users"]],
                "includeGroups": [group_id(env, g) for g in users.get("includeGroups", [])],
                "excludeGroups": [group_id(env, g) for g in ex["groups"]],
                "includeRoles": list(users.get("includeRoles", [])),
                "excludeRoles": [],
                "includeGuestsOrExternalUsers": None,
                "excludeGuestsOrExternalUsers": None,
            },
        }
        if "locations" in extra:
            loc = extra["locations"]
            conv = lambda xs: [x if x in ("All", "AllTrusted") else location_id(env, x) for x in xs]
            cond["locations"] = {"includeLocations": conv(loc["includeLocations"]),
                                 "excludeLocations": conv(loc["excludeLocations"])}
        o = {
            "id": gid(env, "conditionalAccessPolicy", name),
            "templateId": None,
            "displayName": name,
            "createdDateTime": c,
            "modifiedDateTime": m,
            "state": states[0] if env == "dev" else states[1],
            "deletedDateTime": None,
            "partialEnablementStrategy": None,
            "sessionControls": json.loads(json.dumps(session)),
            "conditions": cond,
            "grantControls": {
                "operator": grant[0],
                "builtInControls": list(grant[1]),
                "customAuthenticationFactors": [],
                "termsOfUse": [],
                "authenticationStrength": None,
            },
        }
        out.append((slug(name), entity("identity/conditionalAccess/policies", o, "v1.0")))
    return out


# --------------------------------------------------------------------------------------------
# 6. app protection
# --------------------------------------------------------------------------------------------
IOS_APPS = ["com.microsoft.office.outlook", "com.microsoft.skype.teams", "com.microsoft.office.word",
            "com.microsoft.office.excel", "com.microsoft.office.powerpoint", "com.microsoft.skydrive",
            "com.microsoft.msedge", "com.microsoft.sharepoint"]
ANDROID_APPS = ["com.microsoft.office.outlook", "com.microsoft.teams", "com.microsoft.office.word",
                "com.microsoft.office.excel", "com.microsoft.office.powerpoint", "com.microsoft.skydrive",
                "com.microsoft.emmx", "com.microsoft.sharepoint"]


def app_common():
    # property set derived from CES2026-IntuneCD Backup/App Protection/POC_*_AppProtection_*ManagedAppProtection.json
    return {
        "periodOfflineBeforeAccessCheck": "PT12H",
        "periodOnlineBeforeAccessCheck": "PT30M",
        "allowedInboundDataTransferSources": "allApps",
        "allowedOutboundDataTransferDestinations": "managedApps",
        "organizationalCredentialsRequired": False,
        "allowedOutboundClipboardSharingLevel": "managedAppsWithPasteIn",
        "dataBackupBlocked": True,
        "deviceComplianceRequired": True,
        "managedBrowserToOpenLinksRequired": True,
        "saveAsBlocked": True,
        "periodOfflineBeforeWipeIsEnforced": "P90D",
        "pinRequired": True,
        "maximumPinRetries": 5,
        "simplePinBlocked": True,
        "minimumPinLength": 6,
        "pinCharacterSet": "numeric",
        "periodBeforePinReset": "PT0S",
        "allowedDataStorageLocations": ["oneDriveForBusiness", "sharePoint"],
        "contactSyncBlocked": False,
        "printBlocked": True,
        "fingerprintBlocked": False,
        "disableAppPinIfDevicePinIsSet": False,
        "maximumRequiredOsVersion": None,
        "maximumWarningOsVersion": None,
        "maximumWipeOsVersion": None,
        "minimumRequiredOsVersion": None,
        "minimumWarningOsVersion": None,
        "minimumRequiredAppVersion": None,
        "minimumWarningAppVersion": None,
        "minimumWipeOsVersion": None,
        "minimumWipeAppVersion": None,
        "appActionIfDeviceComplianceRequired": "block",
        "appActionIfMaximumPinRetriesExceeded": "block",
        "pinRequiredInsteadOfBiometricTimeout": "PT30M",
        "allowedOutboundClipboardSharingExceptionLength": 0,
        "notificationRestriction": "blockOrganizationalData",
        "previousPinBlockCount": 0,
        "managedBrowser": "microsoftEdge",
        "maximumAllowedDeviceThreatLevel": "notConfigured",
        "mobileThreatDefenseRemediationAction": "block",
        "mobileThreatDefensePartnerPriority": None,
        "blockDataIngestionIntoOrganizationDocuments": False,
        "allowedDataIngestionLocations": ["oneDriveForBusiness", "sharePoint", "camera", "photoLibrary"],
        "appActionIfUnableToAuthenticateUser": "block",
        "dialerRestrictionLevel": "allApps",
        "gracePeriodToBlockAppsDuringOffClockHours": None,
        "protectedMessagingRedirectAppType": "anyApp",
        "targetedAppManagementLevels": "unspecified",
        "appGroupType": "selectedPublicApps",
    }


def app_base(env, odt, name, desc, tg):
    pid = gid(env, odt, name)
    c, m = times(env, odt, name)
    return pid, {
        "@odata.type": "#microsoft.graph." + odt,
        "displayName": name,
        "description": desc,
        "createdDateTime": c,
        "lastModifiedDateTime": m,
        "roleScopeTagIds": tags(env, *tg),
        "id": pid,
        "version": '"%s-0000-0d00-0000-%s0000"' % (gid(env, "etag", name)[:8], gid(env, "etag2", name)[:8]),
    }


def build_app_protection(env):
    res = {}
    name = "IOS-AP-Office-Apps"
    pid, o = app_base(env, "iosManagedAppProtection", name, "App protection (level 2, enterprise enhanced) for Microsoft 365 apps on iOS.", ("EMEA", "AMER"))
    o.update(app_common())
    o.update({
        "isAssigned": True,
        "appDataEncryptionType": "whenDeviceLocked",
        "minimumRequiredSdkVersion": None,
        "deployedAppCount": len(IOS_APPS),
        "faceIdBlocked": False,
        "minimumWipeSdkVersion": None,
        "allowedIosDeviceModels": None,
        "appActionIfIosDeviceModelNotAllowed": "block",
        "thirdPartyKeyboardsBlocked": False,
        "filterOpenInToOnlyManagedApps": False,
        "disableProtectionOfManagedOutboundOpenInData": False,
        "protectInboundDataFromUnknownSources": False,
        "customBrowserProtocol": "",
        "customDialerAppProtocol": "",
        "managedUniversalLinks": ["http://*.sharepoint.com/*", "http://*teams.microsoft.com/l/*",
                                  "https://*.sharepoint.com/*", "https://*teams.microsoft.com/l/*",
                                  "https://*.powerbi.com/*", "https://tasks.office.com/*"],
        "exemptedUniversalLinks": ["http://facetime.apple.com", "http://maps.apple.com",
                                   "https://facetime.apple.com", "https://maps.apple.com"],
        "minimumWarningSdkVersion": None,
        "messagingRedirectAppUrlScheme": "",
        "exemptedAppProtocols": [{"name": "Default", "value": "skype;app-settings;calshow;itms;itmss;itms-apps;itms-appss;itms-services;"}],
        "apps": [{"id": b + ".ios", "version": "-1",
                  "mobileAppIdentifier": {"@odata.type": "#microsoft.graph.iosMobileAppIdentifier", "bundleId": b}}
                 for b in IOS_APPS],
        "assignments": assignments(env, pid, [("group", "SG-Intune-Licensed-Users"), ("exclude", "SG-Intune-Admins")]),
    })
    res["iosManagedAppProtections"] = [(slug(name), entity("deviceAppManagement/iosManagedAppProtections", o))]

    name = "AND-AP-Office-Apps"
    pid, o = app_base(env, "androidManagedAppProtection", name, "App protection (level 2, enterprise enhanced) for Microsoft 365 apps on Android.", ())
    o.update(app_common())
    o.update({
        "isAssigned": True,
        "screenCaptureBlocked": True,
        "disableAppEncryptionIfDeviceEncryptionIsEnabled": False,
        "encryptAppData": True,
        "deployedAppCount": len(ANDROID_APPS),
        "minimumRequiredPatchVersion": "2025-01-01",
        "minimumWarningPatchVersion": "0000-00-00",
        "minimumWipePatchVersion": "0000-00-00",
        "allowedAndroidDeviceManufacturers": None,
        "appActionIfAndroidDeviceManufacturerNotAllowed": "block",
        "requiredAndroidSafetyNetDeviceAttestationType": "basicIntegrityAndDeviceCertification",
        "appActionIfAndroidSafetyNetDeviceAttestationFailed": "block",
        "requiredAndroidSafetyNetAppsVerificationType": "enabled",
        "appActionIfAndroidSafetyNetAppsVerificationFailed": "block",
        "customBrowserPackageId": "",
        "customBrowserDisplayName": "",
        "minimumRequiredCompanyPortalVersion": None,
        "minimumWarningCompanyPortalVersion": None,
        "minimumWipeCompanyPortalVersion": None,
        "keyboardsRestricted": False,
        "allowedAndroidDeviceModels": [],
        "appActionIfAndroidDeviceModelNotAllowed": "block",
        "customDialerAppPackageId": "",
        "customDialerAppDisplayName": "",
        "biometricAuthenticationBlocked": False,
        "requiredAndroidSafetyNetEvaluationType": "hardwareBacked",
        "blockAfterCompanyPortalUpdateDeferralInDays": 0,
        "warnAfterCompanyPortalUpdateDeferralInDays": 0,
        "wipeAfterCompanyPortalUpdateDeferralInDays": 0,
        "deviceLockRequired": True,
        "appActionIfDeviceLockNotSet": "block",
        "connectToVpnOnLaunch": False,
        "requireClass3Biometrics": True,
        "requirePinAfterBiometricChange": True,
        "fingerprintAndBiometricEnabled": True,
        "messagingRedirectAppPackageId": "",
        "messagingRedirectAppDisplayName": "",
        "exemptedAppPackages": [],
        "approvedKeyboards": [],
        "apps": [{"id": p + ".android", "version": "-1",
                  "mobileAppIdentifier": {"@odata.type": "#microsoft.graph.androidMobileAppIdentifier", "packageId": p}}
                 for p in ANDROID_APPS],
        "assignments": assignments(env, pid, [("group", "SG-Intune-Licensed-Users"), ("exclude", "SG-Intune-Admins")]),
    })
    res["androidManagedAppProtections"] = [(slug(name), entity("deviceAppManagement/androidManagedAppProtections", o))]
    return res


# --------------------------------------------------------------------------------------------
# 7./8./9. scripts
# --------------------------------------------------------------------------------------------
PS_REMOVE_APPS = """<#
.SYNOPSIS
    Removes consumer Appx packages from corporate Windows devices.
.NOTES
    Owner:   Contoso Pharma EUC Engineering
    Version: 1.3
#>
$ErrorActionPreference = 'Stop'
$LogPath = "$env:ProgramData\\Contoso\\Logs\\Remove-ConsumerApps.log"
New-Item -ItemType Directory -Path (Split-Path $LogPath) -Force | Out-Null
Start-Transcript -Path $LogPath -Append

$Packages = @(
    'Microsoft.BingNews'
    'Microsoft.GamingApp'
    'Microsoft.MicrosoftSolitaireCollection'
    'Microsoft.XboxGamingOverlay'
    'Microsoft.ZuneMusic'
    'Clipchamp.Clipchamp'
)

foreach ($Name in $Packages) {
    $Provisioned = Get-AppxProvisionedPackage -Online | Where-Object DisplayName -eq $Name
    if ($Provisioned) {
        Write-Output "Removing provisioned package $Name"
        $Provisioned | Remove-AppxProvisionedPackage -Online | Out-Null
    }
    Get-AppxPackage -Name $Name -AllUsers | Remove-AppxPackage -AllUsers -ErrorAction SilentlyContinue
}

Stop-Transcript
exit 0
"""

PS_MAP_SHARE = """# Maps the Finance department share (F:) for members of SG-Finance-Users.
# Runs in the user's context; the share uses Kerberos SSO, no credentials are stored.
$DriveLetter = 'F'
$SharePath   = '\\\\fs01.corp.contoso-pharma.com\\Finance$'

if (-not (Test-Connection -ComputerName 'fs01.corp.contoso-pharma.com' -Count 1 -Quiet)) {
    Write-Output "File server not reachable (off network?), skipping."
    exit 0
}

$Existing = Get-PSDrive -Name $DriveLetter -ErrorAction SilentlyContinue
if ($Existing -and $Existing.DisplayRoot -ne $SharePath) {
    Remove-PSDrive -Name $DriveLetter -Force
    $Existing = $null
}

if (-not $Existing) {
    New-PSDrive -Name $DriveLetter -PSProvider FileSystem -Root $SharePath -Persist -Scope Global | Out-Null
    Write-Output "Mapped ${DriveLetter}: to $SharePath"
}
exit 0
"""

PS_DETECT_TIME = """# Detection: Windows Time service must be running and synchronising with the corporate NTP servers.
# GxP audit trails require accurate time stamps (21 CFR Part 11).
$ExpectedPeers = 'time.corp.contoso-pharma.com,0x9'
try {
    $Service = Get-Service -Name W32Time -ErrorAction Stop
    $Peers = (Get-ItemProperty -Path 'HKLM:\\SYSTEM\\CurrentControlSet\\Services\\W32Time\\Parameters' -Name NtpServer).NtpServer
} catch {
    Write-Output "W32Time not found: $($_.Exception.Message)"
    exit 1
}
if ($Service.Status -ne 'Running') {
    Write-Output "W32Time is $($Service.Status)"
    exit 1
}
if ($Peers -ne $ExpectedPeers) {
    Write-Output "NtpServer is '$Peers'"
    exit 1
}
Write-Output "Time sync OK"
exit 0
"""

PS_REMEDIATE_TIME = """# Remediation: configure and restart the Windows Time service.
# Paired with Detect-TimeSync.ps1 (WIN-PR-Time-Sync).
$ExpectedPeers = 'time.corp.contoso-pharma.com,0x9'
$LogPath = "$env:ProgramData\\Contoso\\Logs\\Remediate-TimeSync.log"
New-Item -ItemType Directory -Path (Split-Path $LogPath) -Force | Out-Null
Start-Transcript -Path $LogPath -Append | Out-Null
Set-Service -Name W32Time -StartupType Automatic
Start-Service -Name W32Time -ErrorAction SilentlyContinue
w32tm /config /manualpeerlist:"$ExpectedPeers" /syncfromflags:manual /reliable:no /update | Out-Null
Restart-Service -Name W32Time -Force
w32tm /resync /force | Out-Null
Write-Output "W32Time reconfigured to $ExpectedPeers"
Stop-Transcript | Out-Null
exit 0
"""

SH_RENAME = """#!/bin/zsh
# Renames corporate Macs to CP-MAC-<serial> so they match the Entra ID device naming convention.
# Owner: Contoso Pharma EUC Engineering

LOG="/Library/Logs/Contoso/rename-device.log"
mkdir -p "$(dirname "$LOG")"
exec >> "$LOG" 2>&1

serial=$(/usr/sbin/ioreg -rd1 -c IOPlatformExpertDevice | /usr/bin/awk -F'"' '/IOPlatformSerialNumber/{print $4}')
if [[ -z "$serial" ]]; then
  echo "$(date) could not read serial number"
  exit 1
fi

newname="CP-MAC-${serial}"
current=$(/usr/sbin/scutil --get ComputerName)
if [[ "$current" == "$newname" ]]; then
  echo "$(date) already named $newname"
  exit 0
fi

for key in ComputerName HostName LocalHostName; do
  /usr/sbin/scutil --set "$key" "$newname"
done
/usr/bin/dscacheutil -flushcache
echo "$(date) renamed $current -> $newname"
exit 0
"""


def crlf(s):
    return s.replace("\n", "\r\n")


SCRIPT_BYTES = {
    # UTF-8 BOM + CRLF (saved from Windows PowerShell ISE)
    "Remove-ConsumerApps.ps1": b"\xef\xbb\xbf" + crlf(PS_REMOVE_APPS).encode("utf-8"),
    # LF only (edited in VS Code on a Mac)
    "Map-FinanceShare.ps1": PS_MAP_SHARE.encode("utf-8"),
    # CRLF, no BOM
    "Detect-TimeSync.ps1": crlf(PS_DETECT_TIME).encode("utf-8"),
    "Remediate-TimeSync.ps1": PS_REMEDIATE_TIME.encode("utf-8"),
    "rename-device.sh": SH_RENAME.encode("utf-8"),
}


def build_ps_scripts(env):
    out = []
    for name, desc, fname, run_as, tg, asg in [
        ("WIN-PS-Remove-Consumer-Apps", "Removes consumer Appx packages (news, games, music) from corporate devices.",
         "Remove-ConsumerApps.ps1", "system", (), [("group", "SG-Intune-All-Corporate-Devices"), ("exclude", "SG-Pharma-Lab-Devices")]),
        ("WIN-PS-Map-Finance-Share", "Maps the Finance file share as drive F: at sign-in.",
         "Map-FinanceShare.ps1", "user", ("EMEA",), [("group", "SG-Finance-Users")]),
    ]:
        pid = gid(env, "deviceManagementScript", name)
        c, m = times(env, "deviceManagementScript", name)
        out.append((slug(name), entity("deviceManagement/deviceManagementScripts", {
            "enforceSignatureCheck": False,
            "runAs32Bit": False,
            "id": pid,
            "displayName": name,
            "description": desc,
            "scriptContent": b64(SCRIPT_BYTES[fname]),
            "createdDateTime": c,
            "lastModifiedDateTime": m,
            "runAsAccount": run_as,
            "fileName": fname,
            "roleScopeTagIds": tags(env, *tg),
            "assignments": assignments(env, pid, asg, source=False),
        })))
    return out


def build_shell_scripts(env):
    name = "MAC-SH-Rename-Device"
    pid = gid(env, "deviceShellScript", name)
    c, m = times(env, "deviceShellScript", name)
    return [(slug(name), entity("deviceManagement/deviceShellScripts", {
        "executionFrequency": "P1D",
        "retryCount": 3,
        "blockExecutionNotifications": True,
        "id": pid,
        "displayName": name,
        "description": "Renames corporate Macs to CP-MAC-<serial>.",
        "scriptContent": b64(SCRIPT_BYTES["rename-device.sh"]),
        "createdDateTime": c,
        "lastModifiedDateTime": m,
        "runAsAccount": "system",
        "fileName": "rename-device.sh",
        "roleScopeTagIds": tags(env),
        "assignments": assignments(env, pid, [("group", "SG-Intune-macOS-Devices")], source=False),
    }))]


def build_health_scripts(env):
    name = "WIN-PR-Time-Sync"
    pid = gid(env, "deviceHealthScript", name)
    c, m = times(env, "deviceHealthScript", name)
    return [(slug(name), entity("deviceManagement/deviceHealthScripts", {
        "id": pid,
        "publisher": "Contoso Pharma EUC Engineering",
        "version": "1",
        "displayName": name,
        "description": "Detects and repairs Windows Time configuration (GxP time-stamp accuracy).",
        "detectionScriptContent": b64(SCRIPT_BYTES["Detect-TimeSync.ps1"]),
        "remediationScriptContent": b64(SCRIPT_BYTES["Remediate-TimeSync.ps1"]),
        "createdDateTime": c,
        "lastModifiedDateTime": m,
        "runAsAccount": "system",
        "enforceSignatureCheck": False,
        "runAs32Bit": False,
        "roleScopeTagIds": tags(env, "Pharma-Lab"),
        "isGlobalScript": False,
        "highestAvailableVersion": None,
        "deviceHealthScriptType": "deviceHealthScript",
        "detectionScriptParameters": [],
        "remediationScriptParameters": [],
        "assignments": assignments(env, pid, [("group", "SG-Intune-All-Corporate-Devices"), ("group", "SG-Pharma-Lab-Devices")],
                                   source=False,
                                   extra={"runRemediationScript": True,
                                          "runSchedule": {"@odata.type": "#microsoft.graph.deviceHealthScriptDailySchedule",
                                                          "interval": 1, "useUtc": False, "time": "10:00:00.0000000"}}),
    }))]


# --------------------------------------------------------------------------------------------
# 12. enrollment configurations
# --------------------------------------------------------------------------------------------
def build_enrollment(env):
    out = []
    C_ = "deviceManagement/deviceEnrollmentConfigurations"

    def base(odt, name, desc, prio, etype, tg):
        pid = gid(env, "deviceEnrollmentConfiguration", name)
        c, m = times(env, "deviceEnrollmentConfiguration", name)
        return pid, {"@odata.type": "#microsoft.graph." + odt, "id": pid, "displayName": name, "description": desc,
                     "priority": prio, "createdDateTime": c, "lastModifiedDateTime": m,
                     "version": int_version(env, name), "roleScopeTagIds": tg,
                     "deviceEnrollmentConfigurationType": etype}

    pid, o = base("deviceEnrollmentLimitConfiguration", "All users and all devices",
                  "This is the default Device Limit Restriction applied with the lowest priority to all users regardless of group membership.",
                  0, "limit", [])
    o["limit"] = 5
    o["assignments"] = assignments(env, pid, [("allDevices", None)])
    out.append(("default-device-limit", entity(C_, o)))

    pid, o = base("windows10EnrollmentCompletionPageConfiguration", "WIN-ESP-Autopilot",
                  "Enrollment Status Page for Autopilot devices: block until required apps and policies are installed.",
                  1, "windows10EnrollmentCompletionPageConfiguration", tags(env))
    o.update({
        "showInstallationProgress": True,
        "blockDeviceSetupRetryByUser": False,
        "allowDeviceResetOnInstallFailure": True,
        "allowLogCollectionOnInstallFailure": True,
        "customErrorMessage": "Setup could not be completed. Please contact the Contoso Pharma Service Desk (ext. 4357).",
        "installProgressTimeoutInMinutes": 90,
        "allowDeviceUseOnInstallFailure": False,
        "selectedMobileAppIds": [],
        "allowNonBlockingAppInstallation": False,
        "installQualityUpdates": True,
        "trackInstallProgressForAutopilotOnly": True,
        "disableUserStatusTrackingAfterFirstUser": True,
        "assignments": assignments(env, pid, [("group", "SG-Intune-Autopilot-Devices")]),
    })
    out.append((slug(o["displayName"]), entity(C_, o)))

    pid, o = base("deviceEnrollmentPlatformRestrictionConfiguration", "WIN-ER-Block-Personal-Windows",
                  "Blocks enrollment of personally owned Windows devices and Windows 10 builds older than 22H2.",
                  1, "singlePlatformRestriction", tags(env))
    o.update({
        "platformRestriction": {"platformBlocked": False, "personalDeviceEnrollmentBlocked": True,
                                "osMinimumVersion": "10.0.19045", "osMaximumVersion": None,
                                "blockedManufacturers": [], "blockedSkus": []},
        "platformType": "windows",
        "assignments": assignments(env, pid, [("group", "SG-Intune-Licensed-Users")]),
    })
    out.append((slug(o["displayName"]), entity(C_, o)))
    return out


# --------------------------------------------------------------------------------------------
# 13. group policy (ADMX) configuration
# --------------------------------------------------------------------------------------------
def build_group_policy(env):
    name = "WIN-GP-Edge-Startup"
    pid = gid(env, "groupPolicyConfiguration", name)
    c, m = times(env, "groupPolicyConfiguration", name)
    defs_modified = "2024-11-12T18:02:51.8173645Z"

    def definition(display, cat, explain, supported, class_type="machine"):
        return {
            "classType": class_type,
            "displayName": display,
            "explainText": explain,
            "categoryPath": cat,
            "supportedOn": supported,
            "policyType": "admxBacked",
            "hasRelatedDefinitions": False,
            "groupPolicyCategoryId": global_id("gpcategory", cat),
            "minDeviceCspVersion": "10.0",
            "minUserCspVersion": "10.0",
            "version": "1.0",
            "id": global_id("gpdefinition", display),
            "lastModifiedDateTime": defs_modified,
        }

    def dv(key, enabled, definition_, presentations):
        return {
            "createdDateTime": c,
            "enabled": enabled,
            "configurationType": "policy",
            "id": gid(env, "groupPolicyDefinitionValue", name, key),
            "lastModifiedDateTime": m,
            "definition": definition_,
            "presentationValues": presentations,
        }

    home = definition("Configure the home page URL", "\\Microsoft Edge\\Startup, home page and new tab page",
                      "Configures the default home page URL in Microsoft Edge.", "Microsoft Edge version 77, Windows 7 or later")
    startup = definition("Action to take on startup", "\\Microsoft Edge\\Startup, home page and new tab page",
                         "Specify how Microsoft Edge behaves when it starts.", "Microsoft Edge version 77, Windows 7 or later")
    drives = definition("Do not allow drive redirection",
                        "\\Windows Components\\Remote Desktop Services\\Remote Desktop Session Host\\Device and Resource Redirection",
                        "This policy setting specifies whether to prevent the mapping of client drives in a Remote Desktop Services session.",
                        "At least Windows Server 2003 operating systems or Windows XP Professional")
    values = [
        dv("homepage", True, home, [{
            "@odata.type": "#microsoft.graph.groupPolicyPresentationValueText",
            "id": gid(env, "groupPolicyPresentationValue", name, "homepage"),
            "lastModifiedDateTime": m, "createdDateTime": c,
            "value": "https://intranet.contoso-pharma.com/",
            "presentation": {"@odata.type": "#microsoft.graph.groupPolicyPresentationTextBox",
                             "label": "Home page URL", "id": global_id("gppresentation", "homepage"),
                             "lastModifiedDateTime": defs_modified, "defaultValue": "", "required": True,
                             "maxLength": 1023},
        }]),
        dv("startup", True, startup, [{
            "@odata.type": "#microsoft.graph.groupPolicyPresentationValueText",
            "id": gid(env, "groupPolicyPresentationValue", name, "startup"),
            "lastModifiedDateTime": m, "createdDateTime": c,
            "value": "4",
            "presentation": {"@odata.type": "#microsoft.graph.groupPolicyPresentationDropdownList",
                             "label": "Action to take on startup", "id": global_id("gppresentation", "startup"),
                             "lastModifiedDateTime": defs_modified,
                             "defaultItem": {"displayName": "Open a new tab", "value": "5"},
                             "items": [{"displayName": "Restore the last session", "value": "1"},
                                       {"displayName": "Open a list of URLs", "value": "4"},
                                       {"displayName": "Open a new tab", "value": "5"}],
                             "required": True},
        }]),
        dv("drives", True, drives, []),
    ]
    return [(slug(name), entity("deviceManagement/groupPolicyConfigurations", {
        "createdDateTime": c,
        "displayName": name,
        "description": "Edge start-up pages and RDS drive redirection (ADMX-backed).",
        "roleScopeTagIds": tags(env),
        "policyConfigurationIngestionType": "builtIn",
        "id": pid,
        "lastModifiedDateTime": m,
        "definitionValues": values,
        "assignments": assignments(env, pid, [("group", "SG-Intune-All-Corporate-Devices")], source=False),
    }))]


# --------------------------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------------------------
def write(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    text = json.dumps(obj, indent=2, ensure_ascii=False) + "\n"
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def build_tenant(env):
    root = os.path.join(HERE, env)
    if os.path.isdir(root):
        shutil.rmtree(root)
    files = {}

    def put(folder, items):
        for name, obj in items:
            p = os.path.join(root, folder, name + ".json")
            assert p not in files, p
            files[p] = obj

    put("configurationPolicies", build_settings_catalog(env))
    put("deviceConfigurations", build_device_configurations(env))
    put("deviceCompliancePolicies", build_compliance(env))
    put("policies", build_ca(env))
    put("namedLocations", [("namedLocations", listing("identity/conditionalAccess/namedLocations", build_named_locations(env), "v1.0"))])
    for folder, items in build_app_protection(env).items():
        put(folder, items)
    put("deviceManagementScripts", build_ps_scripts(env))
    put("deviceShellScripts", build_shell_scripts(env))
    put("deviceHealthScripts", build_health_scripts(env))
    put("assignmentFilters", [(slug(f["displayName"]), entity("deviceManagement/assignmentFilters", f)) for f in build_filters(env)])
    put("roleScopeTags", [("roleScopeTags", listing("deviceManagement/roleScopeTags", build_scope_tags(env)))])
    put("deviceEnrollmentConfigurations", build_enrollment(env))
    put("groupPolicyConfigurations", build_group_policy(env))
    put("notificationMessageTemplates", [(slug(t["displayName"]), entity("deviceManagement/notificationMessageTemplates", t))
                                         for t in build_notification_templates(env)])
    put("groups", [("groups", listing("groups", build_groups(env), "v1.0"))])
    put("users", [("users", listing("users", build_users(env), "v1.0"))])
    for p in sorted(files):
        write(p, files[p])
    return len(files)


def main():
    for env in ("dev", "prod"):
        n = build_tenant(env)
        print("%s: wrote %d files under %s" % (env, n, os.path.relpath(os.path.join(HERE, env))))


if __name__ == "__main__":
    main()
