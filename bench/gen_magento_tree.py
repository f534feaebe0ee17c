#!/usr/bin/env python3
"""Generate a Magento 2.4-shaped tree at real size for the scan benchmark.

The tree is deterministic for a given (--seed, --files): every package or module draws
from its own random stream, seeded by its path, so the output does not depend on how
many worker processes wrote it.

Layout (as a composer install of Magento 2.4 with a few custom modules):
    vendor/magento/module-*/   Api, Model, Controller, Block, Plugin, Observer, Cron, ...,
                               Test/Unit, etc/*.xml, view/*/templates, view/*/web/js,
                               composer.json, registration.php
    vendor/magento/framework*/ vendor/<other libs>/src/..., lib/internal/Magento/...
    app/code/<Vendor>/<Module>/, app/design/frontend/<Vendor>/<theme>/
    app/etc/env.php, app/etc/config.php, composer.json, composer.lock

Sizes follow Magento 2.4.6 (58k PHP files, 254 MB): ~4.5 KB per PHP file on average with
a long tail up to 200 KB. Generic tokens a gate would route on (curl, Guzzle, logger,
prompt) appear in ~8% of PHP files, as in Magento core. A small, known set of AI
modules is planted; `<out>/PLANTED.json` records each planted item (file, lines, kind)
so the benchmark can check what each tool found.

    bench/gen_magento_tree.py --files 30000 --out bench/work/magento-30k
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import random
import re
import shutil
import string
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

GENERATOR_VERSION = 1

# Share of the PHP files per part of the tree (the planted modules come on top of these
# and are taken out of the custom app/code share).
SHARE_MAGENTO_MODULES = 0.52
SHARE_MAGENTO_FRAMEWORK = 0.05
SHARE_LIB_INTERNAL = 0.02
SHARE_APP_CODE = 0.015
MEAN_FILES_PER_MODULE = 130

# Per PHP file: chance of a generic token (logger, curl, Guzzle, prompt). The vendor
# packages that are made of such tokens (guzzlehttp/*, monolog/*) add ~1% on top.
GENERIC_TOKEN_RATE = 0.08
# Per PHP file: chance of an AI word in a harmless place (Magento core: ~0.01%).
AI_WORD_RATE = 0.0001

COPYRIGHT = """/**
 * Copyright © Magento, Inc. All rights reserved.
 * See COPYING.txt for license details.
 */
"""


def words(text: str) -> list[str]:
    """The whitespace-separated words of a block of text."""
    return text.split()


MAGENTO_MODULES = words("""
AdminAnalytics AdminNotification AdvancedPricingImportExport AdvancedSearch Amqp Analytics
AsynchronousOperations Authorization AwsS3 Backend Backup Bundle BundleGraphQl
BundleImportExport CacheInvalidate Captcha CardinalCommerce Catalog CatalogAnalytics
CatalogCustomerGraphQl CatalogGraphQl CatalogImportExport CatalogInventory
CatalogInventoryGraphQl CatalogRule CatalogRuleConfigurable CatalogRuleGraphQl CatalogSearch
CatalogUrlRewrite CatalogUrlRewriteGraphQl CatalogWidget Checkout CheckoutAgreements
CheckoutAgreementsGraphQl Cms CmsGraphQl CmsUrlRewrite CmsUrlRewriteGraphQl
CompareListGraphQl Config ConfigurableImportExport ConfigurableProduct
ConfigurableProductGraphQl ConfigurableProductSales Contact Cookie Cron Csp CurrencySymbol
Customer CustomerAnalytics CustomerDownloadableGraphQl CustomerGraphQl CustomerImportExport
Deploy Developer Dhl Directory DirectoryGraphQl Downloadable DownloadableGraphQl
DownloadableImportExport Eav EavGraphQl Elasticsearch Elasticsearch7 Email EncryptionKey
Fedex GiftMessage GiftMessageGraphQl GoogleAdwords GoogleAnalytics GoogleGtag
GoogleOptimizer GraphQl GraphQlCache GroupedCatalogInventory GroupedImportExport
GroupedProduct GroupedProductGraphQl ImportExport Indexer InstantPurchase Integration
Inventory InventoryAdminUi InventoryApi InventoryBundleProduct InventoryCatalog
InventoryCatalogAdminUi InventoryCatalogApi InventoryCatalogSearch
InventoryConfigurableProduct InventoryConfiguration InventoryConfigurationApi
InventoryDistanceBasedSourceSelection InventoryExportStock InventoryGraphQl
InventoryImportExport InventoryIndexer InventoryInStorePickup InventoryInStorePickupApi
InventoryLowQuantityNotification InventoryMultiDimensionalIndexerApi InventoryReservations
InventoryReservationsApi InventorySales InventorySalesAdminUi InventorySalesApi
InventoryShipping InventoryShippingAdminUi InventorySourceDeductionApi
InventorySourceSelection InventorySourceSelectionApi JwtFrameworkAdapter JwtUserToken
LayeredNavigation LoginAsCustomer LoginAsCustomerAdminUi LoginAsCustomerApi
LoginAsCustomerAssistance LoginAsCustomerGraphQl LoginAsCustomerLog LoginAsCustomerQuote
Marketplace MediaContent MediaContentApi MediaContentCatalog MediaContentCms
MediaContentSynchronization MediaGallery MediaGalleryApi MediaGalleryCatalog
MediaGalleryIntegration MediaGalleryMetadata MediaGalleryRenditions
MediaGallerySynchronization MediaGalleryUi MediaStorage MessageQueue Msrp
MsrpConfigurableProduct MysqlMq NewRelicReporting Newsletter NewsletterGraphQl
OfflinePayments OfflineShipping OpenSearch PageBuilder PageBuilderAnalytics PageCache
Payment PaymentGraphQl Paypal PaypalCaptcha PaypalGraphQl Persistent ProductAlert
ProductVideo Quote QuoteAnalytics QuoteGraphQl ReCaptchaAdminUi ReCaptchaCheckout
ReCaptchaContact ReCaptchaCustomer ReCaptchaUi ReCaptchaValidation RelatedProductGraphQl
ReleaseNotification RemoteStorage Reports RequireJs Review ReviewAnalytics ReviewGraphQl
Robots Rss Rule Sales SalesAnalytics SalesGraphQl SalesInventory SalesRule SalesRuleGraphQl
SalesSequence SampleData Search Security SendFriend SendFriendGraphQl Shipping Sitemap Store
StoreGraphQl Swagger SwaggerWebapi Swatches SwatchesGraphQl Tax TaxGraphQl TaxImportExport
Theme ThemeGraphQl Translation TwoFactorAuth Ui Ups UrlRewrite UrlRewriteGraphQl User Usps
Variable Vault VaultGraphQl Version Webapi WebapiAsync WebapiSecurity Weee WeeeGraphQl
Widget Wishlist WishlistAnalytics WishlistGraphQl
""")

# Other composer packages of a Magento 2.4 install: (package, PHP namespace, relative size).
VENDOR_LIBS: list[tuple[str, str, float]] = [
    ("laminas/laminas-code", "Laminas\\Code", 1.0),
    ("laminas/laminas-db", "Laminas\\Db", 1.6),
    ("laminas/laminas-di", "Laminas\\Di", 0.6),
    ("laminas/laminas-escaper", "Laminas\\Escaper", 0.1),
    ("laminas/laminas-eventmanager", "Laminas\\EventManager", 0.3),
    ("laminas/laminas-feed", "Laminas\\Feed", 1.0),
    ("laminas/laminas-filter", "Laminas\\Filter", 0.8),
    ("laminas/laminas-http", "Laminas\\Http", 0.8),
    ("laminas/laminas-i18n", "Laminas\\I18n", 0.7),
    ("laminas/laminas-mail", "Laminas\\Mail", 0.9),
    ("laminas/laminas-mime", "Laminas\\Mime", 0.2),
    ("laminas/laminas-mvc", "Laminas\\Mvc", 1.0),
    ("laminas/laminas-servicemanager", "Laminas\\ServiceManager", 0.6),
    ("laminas/laminas-session", "Laminas\\Session", 0.5),
    ("laminas/laminas-soap", "Laminas\\Soap", 0.4),
    ("laminas/laminas-stdlib", "Laminas\\Stdlib", 0.6),
    ("laminas/laminas-uri", "Laminas\\Uri", 0.2),
    ("laminas/laminas-validator", "Laminas\\Validator", 1.1),
    ("laminas/laminas-view", "Laminas\\View", 1.0),
    ("laminas/laminas-barcode", "Laminas\\Barcode", 0.4),
    ("laminas/laminas-captcha", "Laminas\\Captcha", 0.3),
    ("laminas/laminas-crypt", "Laminas\\Crypt", 0.4),
    ("laminas/laminas-permissions-acl", "Laminas\\Permissions\\Acl", 0.2),
    ("symfony/console", "Symfony\\Component\\Console", 1.1),
    ("symfony/process", "Symfony\\Component\\Process", 0.2),
    ("symfony/finder", "Symfony\\Component\\Finder", 0.2),
    ("symfony/filesystem", "Symfony\\Component\\Filesystem", 0.1),
    ("symfony/string", "Symfony\\Component\\String", 0.3),
    ("symfony/intl", "Symfony\\Component\\Intl", 2.0),
    ("symfony/event-dispatcher", "Symfony\\Component\\EventDispatcher", 0.2),
    ("symfony/dependency-injection", "Symfony\\Component\\DependencyInjection", 1.4),
    ("symfony/config", "Symfony\\Component\\Config", 0.6),
    ("symfony/var-dumper", "Symfony\\Component\\VarDumper", 0.7),
    ("symfony/polyfill-mbstring", "Symfony\\Polyfill\\Mbstring", 0.1),
    ("symfony/polyfill-php80", "Symfony\\Polyfill\\Php80", 0.1),
    ("phpunit/phpunit", "PHPUnit", 3.0),
    ("phpunit/php-code-coverage", "SebastianBergmann\\CodeCoverage", 0.9),
    ("sebastian/diff", "SebastianBergmann\\Diff", 0.1),
    ("sebastian/exporter", "SebastianBergmann\\Exporter", 0.05),
    ("sebastian/comparator", "SebastianBergmann\\Comparator", 0.2),
    ("sebastian/type", "SebastianBergmann\\Type", 0.2),
    ("squizlabs/php_codesniffer", "PHP_CodeSniffer", 3.0),
    ("magento/magento-coding-standard", "Magento2", 1.0),
    ("phpcompatibility/php-compatibility", "PHPCompatibility", 2.0),
    ("guzzlehttp/guzzle", "GuzzleHttp", 0.3),
    ("guzzlehttp/psr7", "GuzzleHttp\\Psr7", 0.3),
    ("guzzlehttp/promises", "GuzzleHttp\\Promise", 0.15),
    ("monolog/monolog", "Monolog", 0.8),
    ("psr/log", "Psr\\Log", 0.05),
    ("psr/http-message", "Psr\\Http\\Message", 0.05),
    ("psr/container", "Psr\\Container", 0.03),
    ("composer/composer", "Composer", 2.2),
    ("composer/semver", "Composer\\Semver", 0.1),
    ("league/flysystem", "League\\Flysystem", 0.6),
    ("league/mime-type-detection", "League\\MimeTypeDetection", 0.1),
    ("doctrine/instantiator", "Doctrine\\Instantiator", 0.05),
    ("doctrine/lexer", "Doctrine\\Common\\Lexer", 0.05),
    ("doctrine/annotations", "Doctrine\\Common\\Annotations", 0.4),
    ("phpseclib/phpseclib", "phpseclib3", 1.0),
    ("paragonie/sodium_compat", "ParagonIE\\Sodium", 0.6),
    ("paragonie/constant_time_encoding", "ParagonIE\\ConstantTime", 0.1),
    ("pelago/emogrifier", "Pelago\\Emogrifier", 0.2),
    ("tedivm/jshrink", "JShrink", 0.02),
    ("wikimedia/less.php", "Less", 0.5),
    ("colinmollenhour/cache-backend-redis", "Cm\\Cache\\Backend", 0.05),
    ("colinmollenhour/credis", "Credis", 0.1),
    ("colinmollenhour/php-redis-session-abstract", "Cm\\RedisSession", 0.05),
    ("elasticsearch/elasticsearch", "Elasticsearch", 2.0),
    ("opensearch-project/opensearch-php", "OpenSearch", 2.0),
    ("magento/zend-cache", "Zend_Cache", 0.5),
    ("magento/zend-db", "Zend_Db", 0.6),
    ("magento/zend-pdf", "Zend_Pdf", 0.8),
    ("magento/composer", "Magento\\Composer", 0.2),
    ("magento/magento-composer-installer", "MagentoHackathon\\Composer\\Magento", 0.3),
    ("webonyx/graphql-php", "GraphQL", 1.3),
    ("php-amqplib/php-amqplib", "PhpAmqpLib", 0.6),
    ("ramsey/uuid", "Ramsey\\Uuid", 0.7),
    ("brick/math", "Brick\\Math", 0.1),
    ("endroid/qr-code", "Endroid\\QrCode", 0.3),
    ("bacon/bacon-qr-code", "BaconQrCode", 0.4),
    ("web-token/jwt-framework", "Jose", 2.5),
    ("spomky-labs/otphp", "OTPHP", 0.1),
    ("pdepend/pdepend", "PDepend", 1.8),
    ("phpmd/phpmd", "PHPMD", 0.9),
    ("friendsofphp/php-cs-fixer", "PhpCsFixer", 3.0),
    ("nikic/php-parser", "PhpParser", 1.3),
    ("ezyang/htmlpurifier", "HTMLPurifier", 1.7),
    ("justinrainbow/json-schema", "JsonSchema", 0.4),
    ("thecodingmachine/safe", "Safe", 0.5),
    ("paypal/module-braintree-core", "PayPal\\Braintree", 2.0),
    ("braintree/braintree_php", "Braintree", 1.5),
    ("dotmailer/dotmailer-magento2-extension", "Dotdigitalgroup\\Email", 4.0),
    ("klarna/module-kp", "Klarna\\Kp", 0.8),
    ("amzn/amazon-pay-magento-2-module", "Amazon\\Pay", 1.2),
    ("yotpo/module-review", "Yotpo\\Reviews", 0.6),
    ("vertex/module-tax", "Vertex\\Tax", 2.2),
    ("magento/module-adobe-ims", "Magento\\AdobeIms", 0.3),
    ("magento/module-adobe-stock-client", "Magento\\AdobeStockClient", 0.3),
]

# Packages whose own code is made of generic tokens: no extra tokens are planted there.
TOKEN_PACKAGES = ("guzzlehttp/", "monolog/")

ENTITIES = words("""
Product Category Order Quote Customer Address Invoice Shipment Creditmemo Attribute Option
Link Item Review Rating Wishlist Cart Coupon Store Website Group Config Cache Index Queue
Message Consumer Publisher Topic Page Block Widget Layout Theme Asset Image Media Gallery
Url Rewrite Search Term Synonym Rule Condition Action Source Stock Reservation Sequence
Payment Method Carrier Rate Tax Currency Country Region Locale Translation Role User Token
Integration Bulk Operation Schedule Job Report Statistics Sitemap Newsletter Subscriber
Template Variable Email Notification Alert Swatch Video Tier Price Bundle Selection
Downloadable Sample Export Import Entity Mapper Collection Resolver Provider Builder Factory
""")

ROLES = words("""
Repository Management Validator Processor Resolver Provider Builder Converter Mapper Loader
Handler Manager Locator Generator Calculator Filter Sorter Formatter Renderer Collector
Reader Writer Extractor Hydrator Serializer Checker Applier Modifier Updater Indexer Helper
""")

VERBS = words("""
get set load save delete process apply validate resolve build collect prepare render execute
convert map filter sort calculate reindex update create fetch extract assign remove merge
normalize format check initialize populate retrieve dispatch
""")

FIELDS = words("""
entity_id store_id website_id sku name status created_at updated_at sort_order is_active
customer_id order_id quote_id parent_id attribute_id option_id value code label position qty
price type_id row_id identifier title content url_key path level children_count increment_id
state grand_total subtotal base_currency_code email firstname lastname
""")

PHRASES = """
Something went wrong while saving the item.
The requested entity does not exist.
Invalid value of "%1" provided for the %2 field.
Please specify a valid store.
The configuration is not valid.
Cannot process the request: %1.
We can't find the item with the specified ID.
You saved the record.
The operation is not allowed in the current state.
Could not delete the entity.
""".strip().split("\n")

# The phrases as the body of a single-quoted PHP string.
PHP_PHRASES = [p.replace("\\", "\\\\").replace("'", "\\'") for p in PHRASES]

TABLES = words("""
catalog_product_entity catalog_category_entity sales_order sales_order_item quote quote_item
customer_entity customer_address_entity store store_website eav_attribute cms_page cms_block
url_rewrite inventory_source_item cataloginventory_stock_item salesrule sales_invoice
sales_shipment core_config_data indexer_state cron_schedule
""")

JS_DEPS = words("""
jquery underscore ko uiComponent uiRegistry mage/translate mage/url
Magento_Ui/js/modal/modal Magento_Customer/js/customer-data Magento_Checkout/js/model/quote
mage/storage mage/utils/wrapper
""")


def camel_to_kebab(name: str) -> str:
    """CatalogInventory -> catalog-inventory, GraphQl -> graph-ql (as Magento packages)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name).lower()


def lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


# ---------------------------------------------------------------------------------------
# Sizes


def sample_php_size(rng: random.Random) -> int:
    """Target size of one PHP file: lognormal around ~2.3 KB with a long tail to 200 KB."""
    if rng.random() < 0.003:
        return int(rng.uniform(40_000, 200_000))
    return min(200_000, max(400, int(rng.lognormvariate(math.log(2300), 0.95))))


# ---------------------------------------------------------------------------------------
# PHP code


@dataclass
class PhpContext:
    """What one file's code may refer to: its dependencies and the entity it is about."""

    rng: random.Random
    namespace: str
    entity: str
    deps: list[tuple[str, str]] = field(default_factory=list)  # (property, short type)
    methods: set[str] = field(default_factory=set)

    def method_name(self, name: str) -> str:
        """`name`, or `name2`, `name3`...: PHP refuses two methods of one name."""
        unique, k = name, 1
        while unique.lower() in self.methods:
            k += 1
            unique = f"{name}{k}"
        self.methods.add(unique.lower())
        return unique

    def dep(self) -> str:
        return self.rng.choice(self.deps)[0] if self.deps else "resource"

    def var(self) -> str:
        return lower_first(self.rng.choice(ENTITIES))


def _docblock(rng: random.Random, params: list[tuple[str, str]], ret: str) -> str:
    lines = [
        "    /**",
        f"     * {rng.choice(VERBS).capitalize()} {rng.choice(ENTITIES).lower()} data.",
    ]
    if rng.random() < 0.4:
        lines.append("     *")
        lines.append(
            f"     * Used by the {rng.choice(ENTITIES).lower()} "
            f"{rng.choice(ROLES).lower()} when the {rng.choice(FIELDS)} changes."
        )
    lines.append("     *")
    lines.extend(f"     * @param {t} ${n}" for t, n in params)
    lines.append(f"     * @return {ret}")
    if rng.random() < 0.3:
        lines.append("     * @throws LocalizedException")
    lines.append("     */")
    return "\n".join(lines) + "\n"


def _stmt_assign(c: PhpContext, ind: str) -> str:
    return f"{ind}${c.var()} = $this->{c.dep()}->{c.rng.choice(VERBS)}{c.entity}(${c.var()});\n"


def _stmt_foreach(c: PhpContext, ind: str) -> str:
    r = c.rng
    item, coll = c.var(), c.var() + "s"
    keys = r.sample(FIELDS, 3)
    return (
        f"{ind}foreach (${coll} as ${item}) {{\n"
        f"{ind}    if (!${item}->getIsActive()) {{\n"
        f"{ind}        continue;\n"
        f"{ind}    }}\n"
        f"{ind}    $result[${item}->getId()] = [\n"
        f"{ind}        '{keys[0]}' => ${item}->getData('{keys[0]}'),\n"
        f"{ind}        '{keys[1]}' => (int)${item}->getData('{keys[1]}'),\n"
        f"{ind}        '{keys[2]}' => ${item}->get{c.entity}Id(),\n"
        f"{ind}    ];\n"
        f"{ind}}}\n"
    )


def _stmt_try(c: PhpContext, ind: str) -> str:
    r = c.rng
    return (
        f"{ind}try {{\n"
        f"{ind}    $this->{c.dep()}->save(${c.var()});\n"
        f"{ind}}} catch (\\Exception $e) {{\n"
        f"{ind}    throw new CouldNotSaveException(\n"
        f"{ind}        __('{r.choice(PHP_PHRASES)}', $e->getMessage()),\n"
        f"{ind}        $e\n"
        f"{ind}    );\n"
        f"{ind}}}\n"
    )


def _stmt_array(c: PhpContext, ind: str) -> str:
    r = c.rng
    keys = r.sample(FIELDS, r.randint(3, 7))
    body = "".join(f"{ind}    '{k}' => ${lower_first(c.entity)}->getData('{k}'),\n" for k in keys)
    return f"{ind}${c.var()}Data = [\n{body}{ind}];\n"


def _stmt_select(c: PhpContext, ind: str) -> str:
    r = c.rng
    cols = ", ".join(f"'{f}'" for f in r.sample(FIELDS, 3))
    return (
        f"{ind}$connection = $this->resourceConnection->getConnection();\n"
        f"{ind}$select = $connection->select()\n"
        f"{ind}    ->from(['main_table' => $this->resourceConnection->getTableName("
        f"'{r.choice(TABLES)}')], [{cols}])\n"
        f"{ind}    ->where('main_table.{r.choice(FIELDS)} = ?', ${c.var()}Id)\n"
        f"{ind}    ->order('main_table.{r.choice(FIELDS)} ' . Select::SQL_ASC);\n"
        f"{ind}$rows = $connection->fetchAll($select);\n"
    )


def _stmt_heredoc(c: PhpContext, ind: str) -> str:
    r = c.rng
    t1, t2 = r.sample(TABLES, 2)
    f1, f2, f3 = r.sample(FIELDS, 3)
    return (
        f"{ind}$sql = <<<SQL\n"
        f"SELECT main.{f1}, main.{f2}, joined.{f3}\n"
        f"  FROM {t1} AS main\n"
        f"  LEFT JOIN {t2} AS joined ON joined.{f1} = main.{f1}\n"
        f" WHERE main.{f2} IN (:ids) AND main.{f3} IS NOT NULL\n"
        f"SQL;\n"
        f"{ind}$rows = $this->resourceConnection->getConnection()\n"
        f"{ind}    ->fetchAll($sql, ['ids' => $ids]);\n"
    )


def _stmt_if(c: PhpContext, ind: str) -> str:
    r = c.rng
    v = c.var()
    return (
        f"{ind}if (${v} === null || !in_array(${v}->getData('{r.choice(FIELDS)}'), "
        f"self::ALLOWED_TYPES, true)) {{\n"
        f"{ind}    throw new LocalizedException(\n"
        f"{ind}        __('{r.choice(PHP_PHRASES)}', '{r.choice(FIELDS)}')\n"
        f"{ind}    );\n"
        f"{ind}}} elseif (${v}->get{r.choice(ENTITIES)}Id() > 0) {{\n"
        f"{ind}    ${v}->set{r.choice(ENTITIES)}Id((int)${v}->getId());\n"
        f"{ind}}}\n"
    )


def _stmt_closure(c: PhpContext, ind: str) -> str:
    r = c.rng
    v = c.var()
    return (
        f"{ind}${v}Ids = array_filter(\n"
        f"{ind}    array_map(\n"
        f"{ind}        static function ($row) {{\n"
        f"{ind}            return (int)($row['{r.choice(FIELDS)}'] ?? 0);\n"
        f"{ind}        }},\n"
        f"{ind}        $rows\n"
        f"{ind}    )\n"
        f"{ind});\n"
    )


def _stmt_sprintf(c: PhpContext, ind: str) -> str:
    r = c.rng
    return (
        f"{ind}$cacheKey = sprintf('%s_%s_%d', self::CACHE_TAG, "
        f"${c.var()}->get{r.choice(ENTITIES)}Code(), (int)$storeId);\n"
        f"{ind}$label = (string)__('%1 of %2', ${c.var()}->getName(), "
        f"$this->{c.dep()}->getTitle());\n"
    )


def _stmt_switch(c: PhpContext, ind: str) -> str:
    r = c.rng
    arms = "".join(
        f"{ind}    case '{w}':\n"
        f"{ind}        $value = $this->{c.dep()}\n"
        f"{ind}            ->{r.choice(VERBS)}{r.choice(ENTITIES)}(${c.var()});\n"
        f"{ind}        break;\n"
        for w in r.sample(FIELDS, 3)
    )
    return (
        f"{ind}switch ($type) {{\n{arms}{ind}    default:\n{ind}        $value = null;\n{ind}}}\n"
    )


STATEMENTS: list[Callable[[PhpContext, str], str]] = [
    _stmt_assign,
    _stmt_assign,
    _stmt_foreach,
    _stmt_try,
    _stmt_array,
    _stmt_select,
    _stmt_if,
    _stmt_closure,
    _stmt_sprintf,
    _stmt_switch,
]


def php_method(c: PhpContext) -> str:
    r = c.rng
    name = c.method_name(
        f"{r.choice(VERBS)}{r.choice(ENTITIES)}{r.choice(['', '', 'Data', 'Ids', 'List'])}"
    )
    names = r.sample(ENTITIES, r.randint(0, 3))
    params = [(r.choice(ENTITIES) + "Interface", lower_first(n)) for n in names]
    ret = r.choice(["array", "void", "bool", "int", "string", f"{c.entity}Interface"])
    sig = ", ".join(f"{t} ${n}" for t, n in params)
    vis = r.choice(["public", "public", "private", "protected"])
    body = ["        $result = [];\n"]
    if r.random() < 0.06:
        body.append(_stmt_heredoc(c, "        "))
    for _ in range(r.randint(1, 5)):
        body.append(r.choice(STATEMENTS)(c, "        "))
    body.append("        return $result;\n" if ret != "void" else "")
    return (
        _docblock(r, params, ret)
        + f"    {vis} function {name}({sig}): {ret}\n    {{\n"
        + "".join(body)
        + "    }\n\n"
    )


def php_test_method(c: PhpContext) -> str:
    r = c.rng
    mock = c.var()
    lines = [
        "    /**\n     * @return void\n     */\n",
        f"    public function "
        f"{c.method_name(f'test{r.choice(VERBS).capitalize()}{r.choice(ENTITIES)}')}(): void\n",
        "    {\n",
    ]
    for _ in range(r.randint(1, 4)):
        lines.append(
            f"        $this->{mock}Mock->expects($this->{r.choice(['once', 'any', 'never'])}())\n"
            f"            ->method('{r.choice(VERBS)}{r.choice(ENTITIES)}')\n"
            f"            ->with({r.randint(1, 99)})\n"
            f"            ->willReturn([{', '.join(repr(f) for f in r.sample(FIELDS, 2))}]);\n"
        )
    lines.append(
        f"        $this->assertEquals({r.randint(0, 9)}, "
        f"$this->model->{r.choice(VERBS)}{r.choice(ENTITIES)}());\n"
    )
    lines.append("    }\n\n")
    return "".join(lines)


# Snippets with one generic token each: what makes Magento core files pass a
# generic-token gate without being anything to report.
def generic_snippet(c: PhpContext) -> tuple[list[str], list[tuple[str, str]], str]:
    """(use statements, constructor deps, method) carrying a generic token."""
    r = c.rng
    kind = r.choices(["logger", "curl", "guzzle", "prompt"], weights=[55, 20, 10, 15])[0]
    if kind == "logger":
        return (
            ["Psr\\Log\\LoggerInterface"],
            [("logger", "LoggerInterface")],
            "    /**\n     * @param \\Exception $e\n     * @return void\n     */\n"
            "    private function logFailure(\\Exception $e): void\n    {\n"
            f"        $this->logger->critical($e->getMessage(), ['{r.choice(FIELDS)}' => "
            f"$this->{c.dep()}->getId()]);\n    }}\n\n",
        )
    if kind == "curl":
        host = r.choice(
            [
                "wwwcie.ups.com",
                "secure.shippingapis.com",
                "ws.dhl.com",
                "api.fixer.io",
                "www.webservicex.net",
                "api.mailchimp.com",
                "ws.fedex.com",
            ]
        )
        return (
            ["Magento\\Framework\\HTTP\\Client\\Curl"],
            [("curl", "Curl")],
            "    /**\n     * @param array $request\n     * @return string\n     */\n"
            "    private function sendRequest(array $request): string\n    {\n"
            "        $this->curl->setOption(CURLOPT_TIMEOUT, 30);\n"
            "        $this->curl->addHeader('Content-Type', 'application/xml');\n"
            f"        $this->curl->post('https://{host}/api/rates', $request);\n"
            "        return $this->curl->getBody();\n    }\n\n",
        )
    if kind == "guzzle":
        host = r.choice(
            ["api.fastly.com", "repo.magento.com", "api.vertexsmb.com", "api.yotpo.com"]
        )
        return (
            ["GuzzleHttp\\Client", "GuzzleHttp\\Exception\\GuzzleException"],
            [("httpClient", "Client")],
            "    /**\n     * @param string $path\n     * @return array\n"
            "     * @throws GuzzleException\n     */\n"
            "    private function fetchRemote(string $path): array\n    {\n"
            f"        $response = $this->httpClient->request('GET', 'https://{host}/' . $path, [\n"
            "            'timeout' => 10,\n"
            "            'headers' => ['Accept' => 'application/json'],\n"
            "        ]);\n"
            "        return json_decode((string)$response->getBody(), true) ?: [];\n    }\n\n",
        )
    return (
        [],
        [],
        "    /**\n     * @return array\n     */\n"
        "    public function getConfirmationConfig(): array\n    {\n"
        "        return [\n"
        "            'type' => 'prompt',\n"
        "            'title' => __('Enter a name for the new set'),\n"
        "            'promptField' => '[data-role=\"promptField\"]',\n"
        "        ];\n    }\n\n",
    )


def ai_word_snippet() -> str:
    """A harmless AI word, as the rare ones in Magento core (a comment, not a call)."""
    return (
        "    /**\n     * Keeps the schema compatible with OpenAI-style function calling.\n"
        "     *\n     * @return array\n     */\n"
        "    public function getSchemaHints(): array\n    {\n"
        "        return ['strict' => true];\n    }\n\n"
    )


MAGENTO_USES = [
    "Magento\\Framework\\Exception\\LocalizedException",
    "Magento\\Framework\\Exception\\CouldNotSaveException",
    "Magento\\Framework\\Exception\\NoSuchEntityException",
    "Magento\\Framework\\App\\ResourceConnection",
    "Magento\\Framework\\DB\\Select",
    "Magento\\Store\\Model\\StoreManagerInterface",
    "Magento\\Framework\\Serialize\\SerializerInterface",
    "Magento\\Framework\\Api\\SearchCriteriaBuilder",
    "Magento\\Framework\\Event\\ManagerInterface",
    "Magento\\Framework\\App\\Config\\ScopeConfigInterface",
]

# What each file kind of a Magento module looks like: (folder, weight, base class, suffix).
MODULE_KINDS: list[tuple[str, float, str, str]] = [
    ("Api", 4, "interface", "Interface"),
    ("Api/Data", 5, "interface", "Interface"),
    ("Model", 20, "", ""),
    ("Model/ResourceModel", 6, "AbstractDb", ""),
    ("Model/ResourceModel/Collection", 3, "AbstractCollection", "Collection"),
    ("Controller/Index", 3, "Action", ""),
    ("Controller/Adminhtml", 6, "Action", ""),
    ("Block", 5, "Template", ""),
    ("Block/Adminhtml", 3, "Template", ""),
    ("Plugin", 3, "", "Plugin"),
    ("Observer", 3, "", "Observer"),
    ("Cron", 1, "", ""),
    ("Console/Command", 1, "Command", "Command"),
    ("Setup/Patch/Data", 2, "", "Patch"),
    ("Helper", 2, "AbstractHelper", ""),
    ("ViewModel", 2, "", ""),
    ("Ui/Component", 2, "", ""),
    ("Ui/DataProvider", 2, "", "DataProvider"),
    ("CustomerData", 1, "", "Section"),
    ("Test/Unit/Model", 14, "TestCase", "Test"),
    ("Test/Unit/Controller", 4, "TestCase", "Test"),
]
KIND_WEIGHTS = [k[1] for k in MODULE_KINDS]


def php_class_file(
    rng: random.Random,
    namespace: str,
    class_name: str,
    base: str,
    target: int,
    *,
    tokens: bool,
    header: str = COPYRIGHT,
    uses: list[str] | None = None,
) -> str:
    """One PHP class (or interface / test case) of about `target` bytes."""
    entity = rng.choice(ENTITIES)
    c = PhpContext(rng, namespace, entity)
    n_deps = rng.randint(1, 8)
    c.deps = [
        (lower_first(e) + r, e + r)
        for e, r in zip(rng.sample(ENTITIES, n_deps), rng.choices(ROLES, k=n_deps), strict=True)
    ]
    c.methods.update(
        (
            "__construct",
            "logfailure",
            "sendrequest",
            "fetchremote",
            "getconfirmationconfig",
            "getschemahints",
        )
    )
    use_list = list(uses if uses is not None else rng.sample(MAGENTO_USES, rng.randint(3, 7)))
    extra_methods: list[str] = []
    tokens = tokens and base != "interface"
    if tokens and rng.random() < GENERIC_TOKEN_RATE:
        u, d, m = generic_snippet(c)
        use_list += u
        c.deps += d
        extra_methods.append(m)
    if tokens and rng.random() < AI_WORD_RATE:
        extra_methods.append(ai_word_snippet())

    is_interface = base == "interface"
    is_test = base == "TestCase"
    parts = ["<?php\n", header, "declare(strict_types=1);\n\n", f"namespace {namespace};\n\n"]
    if is_test:
        use_list = ["PHPUnit\\Framework\\TestCase", "PHPUnit\\Framework\\MockObject\\MockObject"]
    parts.extend(f"use {u};\n" for u in sorted(set(use_list)))
    parts.append("\n/**\n")
    parts.append(f" * {entity} {rng.choice(ROLES).lower()} for the {namespace} module.\n")
    if rng.random() < 0.5:
        parts.append(" *\n * @api\n * @since 100.0.2\n")
    parts.append(" */\n")
    if is_interface:
        parts.append(f"interface {class_name}\n{{\n")
        for f in rng.sample(FIELDS, rng.randint(2, 8)):
            parts.append(f"    public const {f.upper()} = '{f}';\n")
        parts.append("\n")
    else:
        ext = f" extends {base}" if base else ""
        parts.append(f"class {class_name}{ext}\n{{\n")
        parts.append("    private const CACHE_TAG = '" + entity.lower() + "';\n")
        parts.append("    private const ALLOWED_TYPES = ['simple', 'virtual', 'configurable'];\n\n")
        if is_test:
            for _, t in c.deps:
                parts.append(f"    /**\n     * @var {t}|MockObject\n     */\n")
                parts.append(f"    private ${lower_first(t)}Mock;\n\n")
        else:
            for p, t in c.deps:
                parts.append(f"    /**\n     * @var {t}\n     */\n    private ${p};\n\n")
            ctor_doc = "".join(f"     * @param {t} ${p}\n" for p, t in c.deps)
            args = ",\n".join(f"        {t} ${p}" for p, t in c.deps)
            assigns = "".join(f"        $this->{p} = ${p};\n" for p, _ in c.deps)
            parts.append(f"    /**\n{ctor_doc}     */\n    public function __construct(\n")
            parts.append(f"{args}\n    ) {{\n{assigns}    }}\n\n")
    size = sum(len(p) for p in parts)
    for m in extra_methods:
        parts.append(m)
        size += len(m)
    while size < target:
        if is_interface:
            r = rng
            m = (
                f"    /**\n     * {r.choice(VERBS).capitalize()} {r.choice(FIELDS)}\n     *\n"
                f"     * @return string|null\n     */\n"
                f"    public function "
                f"{c.method_name(r.choice(VERBS) + r.choice(ENTITIES) + r.choice(ENTITIES))}();\n\n"
            )
        elif is_test:
            m = php_test_method(c)
        else:
            m = php_method(c)
        parts.append(m)
        size += len(m)
    parts.append("}\n")
    return "".join(parts)


def registration_php(module: str) -> str:
    return (
        f"<?php\n{COPYRIGHT}\nuse Magento\\Framework\\Component\\ComponentRegistrar;\n\n"
        f"ComponentRegistrar::register(ComponentRegistrar::MODULE, '{module}', __DIR__);\n"
    )


# ---------------------------------------------------------------------------------------
# Other files of a module


def xml_header(schema: str) -> str:
    return (
        '<?xml version="1.0"?>\n<!--\n/**\n * Copyright © Magento, Inc. All rights reserved.\n'
        " * See COPYING.txt for license details.\n */\n-->\n"
        f'<config xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:noNamespaceSchemaLocation="urn:magento:{schema}">\n'
    )


def module_xml(module: str, rng: random.Random, deps: list[str]) -> str:
    seq = "".join(f'            <module name="{d}"/>\n' for d in deps)
    return (
        xml_header("framework:Module/etc/module.xsd")
        + f'    <module name="{module}">\n        <sequence>\n{seq}        </sequence>\n'
        "    </module>\n</config>\n"
    )


def di_xml(ns: str, rng: random.Random, classes: list[str]) -> str:
    out = [xml_header("framework:ObjectManager/etc/config.xsd")]
    for cls in rng.sample(classes, min(len(classes), rng.randint(2, 12))):
        short = cls.rsplit("\\", 1)[-1]
        out.append(f'    <preference for="{ns}\\Api\\{short}Interface" type="{cls}"/>\n')
        out.append(f'    <type name="{cls}">\n        <arguments>\n')
        out.append(
            f'            <argument name="{lower_first(rng.choice(ENTITIES))}" '
            f'xsi:type="object">{ns}\\Model\\{rng.choice(ENTITIES)}Proxy</argument>\n'
        )
        out.append("        </arguments>\n    </type>\n")
    out.append("</config>\n")
    return "".join(out)


def config_xml(rng: random.Random, section: str) -> str:
    fields = "".join(
        f"                <{f}>{rng.randint(0, 1)}</{f}>\n" for f in rng.sample(FIELDS, 4)
    )
    return (
        xml_header("module:Magento_Store:etc/config.xsd")
        + f"    <default>\n        <{section}>\n            <general>\n{fields}"
        f"            </general>\n        </{section}>\n    </default>\n</config>\n"
    )


def system_xml(rng: random.Random, section: str, module: str) -> str:
    flds = "".join(
        f'                <field id="{f}" translate="label" type="select" sortOrder="{i * 10}" '
        f'showInDefault="1" showInWebsite="1" showInStore="1">\n'
        f"                    <label>{f.replace('_', ' ').title()}</label>\n"
        "                    <source_model>Magento\\Config\\Model\\Config\\Source\\Yesno"
        "</source_model>\n                </field>\n"
        for i, f in enumerate(rng.sample(FIELDS, 4))
    )
    return (
        xml_header("module:Magento_Config:etc/system_file.xsd")
        + f'    <system>\n        <section id="{section}" translate="label" type="text">\n'
        f"            <label>{module}</label>\n"
        f"            <resource>{module}::config</resource>\n"
        f'            <group id="general" translate="label" type="text" sortOrder="10">\n'
        f"{flds}            </group>\n        </section>\n    </system>\n</config>\n"
    )


def events_xml(rng: random.Random, ns: str) -> str:
    ev = "".join(
        f'    <event name="{rng.choice(ENTITIES).lower()}_{rng.choice(VERBS)}_after">\n'
        f'        <observer name="{ns.lower().replace(chr(92), "_")}_{i}" '
        f'instance="{ns}\\Observer\\{rng.choice(ENTITIES)}Observer"/>\n    </event>\n'
        for i in range(rng.randint(1, 5))
    )
    return xml_header("framework:Event/etc/events.xsd") + ev + "</config>\n"


def phtml(rng: random.Random, ns: str) -> str:
    rows = "".join(
        f"        <li class=\"item {f}\"><?= $escaper->escapeHtml($block->getData('{f}')) ?></li>\n"
        for f in rng.sample(FIELDS, rng.randint(3, 10))
    )
    return (
        f"<?php\n{COPYRIGHT}\n/** @var \\{ns}\\Block\\{rng.choice(ENTITIES)} $block */\n"
        "/** @var \\Magento\\Framework\\Escaper $escaper */\n?>\n"
        f'<div class="block {rng.choice(ENTITIES).lower()}">\n'
        "    <?php if ($block->isEnabled()): ?>\n    <ul>\n"
        f"{rows}    </ul>\n    <?php endif; ?>\n</div>\n"
        '<script type="text/x-magento-init">\n    {"*": {"'
        + ns.replace("\\", "_")
        + "/js/"
        + rng.choice(ENTITIES).lower()
        + '": {}}}\n</script>\n'
    )


def js_file(rng: random.Random) -> str:
    deps = rng.sample(JS_DEPS, rng.randint(2, 5))
    args = ", ".join(d.rsplit("/", 1)[-1].replace("-", "") for d in deps)
    methods = "".join(
        f"\n        {rng.choice(VERBS)}{rng.choice(ENTITIES)}: function (data) {{\n"
        "            var result = [];\n\n"
        "            _.each(data.items || [], function (item) {\n"
        f"                if (item.{rng.choice(FIELDS)}) {{\n"
        f"                    result.push(item.{rng.choice(FIELDS)});\n"
        "                }\n            });\n\n"
        f"            return $.extend({{}}, this.options, {{{rng.choice(FIELDS)}: result}});\n"
        "        },\n"
        for _ in range(rng.randint(2, 12))
    )
    return (
        "/**\n * Copyright © Magento, Inc. All rights reserved.\n"
        " * See COPYING.txt for license details.\n */\n\n"
        f"define([\n    {', '.join(repr(d) for d in deps)}\n], function ({args}) {{\n"
        "    'use strict';\n\n    return Component.extend({\n"
        "        defaults: {\n            template: 'Magento_Ui/grid/listing'\n        },\n"
        f"{methods}    }});\n}});\n"
    )


def composer_json(
    name: str, ns: str, version: str, requires: dict[str, str], kind: str = "magento2-module"
) -> str:
    data = {
        "name": name,
        "description": "N/A",
        "type": kind,
        "license": ["OSL-3.0", "AFL-3.0"],
        "version": version,
        "require": {"php": "~8.1.0||~8.2.0", **requires},
        "autoload": {
            "files": ["registration.php"] if kind == "magento2-module" else [],
            "psr-4": {ns + "\\": "" if kind == "magento2-module" else "src/"},
        },
    }
    return json.dumps(data, indent=4) + "\n"


# ---------------------------------------------------------------------------------------
# Units of work: one package or module each, written by one worker


@dataclass
class Unit:
    kind: str  # magento_module | framework | lib_internal | vendor_lib | app_module
    rel: str  # folder relative to the tree root
    namespace: str
    package: str  # composer name ('' for app/code and lib/internal)
    php_files: int


@dataclass
class Written:
    php_files: int = 0
    php_bytes: int = 0
    other_files: int = 0
    other_bytes: int = 0

    def add(self, other: Written) -> None:
        self.php_files += other.php_files
        self.php_bytes += other.php_bytes
        self.other_files += other.other_files
        self.other_bytes += other.other_bytes


class Writer:
    """Writes files under one root, creating folders once, and counts what it wrote."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.made: set[Path] = set()
        self.stats = Written()

    def write(self, rel: str, text: str) -> None:
        path = self.root / rel
        parent = path.parent
        if parent not in self.made:
            parent.mkdir(parents=True, exist_ok=True)
            self.made.add(parent)
        data = text.encode("utf-8")
        path.write_bytes(data)
        if rel.endswith(".php"):
            self.stats.php_files += 1
            self.stats.php_bytes += len(data)
        else:
            self.stats.other_files += 1
            self.stats.other_bytes += len(data)


def unit_rng(seed: int, unit: Unit) -> random.Random:
    return random.Random(f"{seed}:{unit.rel}")


def unique_name(rng: random.Random, taken: set[str], suffix: str) -> str:
    for _ in range(50):
        name = rng.choice(ENTITIES) + rng.choice(["", *ROLES]) + suffix
        if name not in taken:
            taken.add(name)
            return name
    name = f"{rng.choice(ENTITIES)}{len(taken)}{suffix}"
    taken.add(name)
    return name


def write_magento_module(w: Writer, unit: Unit, rng: random.Random) -> None:
    ns = unit.namespace
    module = ns.replace("\\", "_")
    base = unit.rel
    taken: dict[str, set[str]] = {}
    classes: list[str] = []
    n_php = max(1, unit.php_files - 1)  # registration.php is one of them
    kinds = rng.choices(MODULE_KINDS, weights=KIND_WEIGHTS, k=n_php)
    for folder, _, parent, suffix in kinds:
        name = unique_name(rng, taken.setdefault(folder, set()), suffix)
        sub_ns = f"{ns}\\{folder.replace('/', chr(92))}"
        text = php_class_file(rng, sub_ns, name, parent, sample_php_size(rng), tokens=True)
        w.write(f"{base}/{folder}/{name}.php", text)
        classes.append(f"{sub_ns}\\{name}")
    w.write(f"{base}/registration.php", registration_php(module))
    section = camel_to_kebab(module.split("_", 1)[-1]).replace("-", "_")
    deps = [f"Magento_{m}" for m in rng.sample(MAGENTO_MODULES, 3)]
    w.write(f"{base}/etc/module.xml", module_xml(module, rng, deps))
    w.write(f"{base}/etc/di.xml", di_xml(ns, rng, classes))
    if rng.random() < 0.5:
        w.write(f"{base}/etc/events.xml", events_xml(rng, ns))
    if rng.random() < 0.6:
        w.write(f"{base}/etc/config.xml", config_xml(rng, section))
    if rng.random() < 0.4:
        w.write(f"{base}/etc/adminhtml/system.xml", system_xml(rng, section, module))
    if rng.random() < 0.3:
        w.write(f"{base}/etc/adminhtml/di.xml", di_xml(ns, rng, classes))
    if rng.random() < 0.3:
        w.write(
            f"{base}/etc/frontend/routes.xml",
            xml_header("framework:App/etc/routes.xsd") + f'    <router id="standard">\n'
            f'        <route id="{section}" frontName="{section}">\n'
            f'            <module name="{module}"/>\n        </route>\n    </router>\n</config>\n',
        )
    for _ in range(int(rng.expovariate(1 / max(1.0, unit.php_files / 25)))):
        w.write(
            f"{base}/view/frontend/templates/{rng.choice(ENTITIES).lower()}/"
            f"{rng.choice(VERBS)}.phtml",
            phtml(rng, ns),
        )
    for _ in range(int(rng.expovariate(1 / max(1.0, unit.php_files / 30)))):
        area = rng.choice(["frontend", "frontend", "adminhtml", "base"])
        w.write(
            f"{base}/view/{area}/web/js/{camel_to_kebab(rng.choice(ENTITIES))}-"
            f"{rng.choice(VERBS)}.js",
            js_file(rng),
        )
    if unit.package:
        requires = {
            f"magento/module-{camel_to_kebab(m)}": "*" for m in rng.sample(MAGENTO_MODULES, 4)
        }
        w.write(f"{base}/composer.json", composer_json(unit.package, ns, "103.0.6", requires))


def write_library(w: Writer, unit: Unit, rng: random.Random) -> None:
    ns = unit.namespace
    tokens = not unit.package.startswith(TOKEN_PACKAGES)
    taken: dict[str, set[str]] = {}
    sub_dirs = [rng.choice(ENTITIES) for _ in range(max(1, unit.php_files // 25))]
    src = "src" if unit.kind == "vendor_lib" else ""
    header = "/**\n * This file is part of the " + unit.package + " package.\n */\n"
    for _ in range(unit.php_files):
        folder = rng.choice(sub_dirs)
        if rng.random() < 0.3:
            folder += "/" + rng.choice(ENTITIES)
        is_test = unit.kind == "vendor_lib" and rng.random() < 0.15
        top = "tests" if is_test else src
        name = unique_name(
            rng, taken.setdefault(f"{top}/{folder}", set()), "Test" if is_test else ""
        )
        sub_ns = f"{ns}\\{folder.replace('/', chr(92))}"
        if unit.package.startswith("guzzlehttp/"):
            extra_uses = ["GuzzleHttp\\Psr7\\Request", "GuzzleHttp\\Promise\\PromiseInterface"]
        elif unit.package.startswith("monolog/"):
            extra_uses = ["Psr\\Log\\LoggerInterface", "Monolog\\Logger"]
        else:
            extra_uses = []
        text = php_class_file(
            rng,
            sub_ns,
            name,
            "TestCase" if is_test else rng.choice(["", "", "AbstractBase"]),
            sample_php_size(rng),
            tokens=tokens,
            header=header if unit.package else COPYRIGHT,
            uses=[
                *extra_uses,
                f"{ns}\\Exception\\RuntimeException",
                f"{ns}\\{rng.choice(ENTITIES)}Interface",
            ],
        )
        w.write(f"{unit.rel}/{top}/{folder}/{name}.php".replace("//", "/"), text)
    if unit.package:
        w.write(
            f"{unit.rel}/composer.json",
            composer_json(
                unit.package, ns, f"{rng.randint(1, 9)}.{rng.randint(0, 20)}.0", {}, kind="library"
            ),
        )
        w.write(f"{unit.rel}/README.md", f"# {unit.package}\n\n{rng.choice(PHRASES)}\n")
        w.write(f"{unit.rel}/LICENSE", "MIT License\n\nPermission is hereby granted ...\n")


def write_unit(args: tuple[str, int, Unit]) -> Written:
    root, seed, unit = args
    w = Writer(Path(root))
    rng = unit_rng(seed, unit)
    if unit.kind in ("magento_module", "app_module"):
        write_magento_module(w, unit, rng)
    else:
        write_library(w, unit, rng)
    return w.stats


# ---------------------------------------------------------------------------------------
# The plan


def split(
    total: int, n: int, rng: random.Random, sigma: float = 1.0, weights: list[float] | None = None
) -> list[int]:
    """Split `total` files into `n` heavy-tailed parts of at least 1 each."""
    raw = [(weights[i] if weights else 1.0) * rng.lognormvariate(0, sigma) for i in range(n)]
    s = sum(raw)
    parts = [max(1, int(total * x / s)) for x in raw]
    diff = total - sum(parts)
    i = 0
    while diff != 0 and n:
        j = i % n
        if diff > 0:
            parts[j] += 1
            diff -= 1
        elif parts[j] > 1:
            parts[j] -= 1
            diff += 1
        i += 1
    return parts


def module_names(n: int) -> list[str]:
    names = list(MAGENTO_MODULES)
    extra = ["GraphQl", "AdminUi", "Api", "ImportExport", "Analytics", "Frontend", "Sync"]
    k = 0
    while len(names) < n:
        cand = (
            MAGENTO_MODULES[k % len(MAGENTO_MODULES)]
            + extra[(k // len(MAGENTO_MODULES)) % len(extra)]
        )
        if (k // (len(MAGENTO_MODULES) * len(extra))) > 0:
            cand += str(k // (len(MAGENTO_MODULES) * len(extra)))
        if cand not in names:
            names.append(cand)
        k += 1
    return names[:n]


def plan_units(files: int, seed: int, planted_php: int) -> list[Unit]:
    rng = random.Random(f"{seed}:plan")
    # Written besides the units and the planted modules: app/etc/env.php, app/etc/config.php,
    # app/bootstrap.php, pub/index.php and the theme's registration.php.
    budget = max(0, files - planted_php - 5)
    n_mod = round(budget * SHARE_MAGENTO_MODULES)
    n_fw = round(budget * SHARE_MAGENTO_FRAMEWORK)
    n_lib = round(budget * SHARE_LIB_INTERNAL)
    n_app = round(budget * SHARE_APP_CODE)
    n_vendor = budget - n_mod - n_fw - n_lib - n_app
    units: list[Unit] = []

    count = max(1, round(n_mod / MEAN_FILES_PER_MODULE))
    all_names = module_names(count)
    rng.shuffle(all_names)
    for name, k in zip(all_names, split(n_mod, count, rng, 0.9), strict=True):
        kebab = camel_to_kebab(name)
        units.append(
            Unit(
                "magento_module",
                f"vendor/magento/module-{kebab}",
                f"Magento\\{name}",
                f"magento/module-{kebab}",
                k,
            )
        )

    fw_parts = ["framework", "framework-amqp", "framework-bulk", "framework-message-queue"]
    for part, k in zip(fw_parts, split(n_fw, 4, rng, 0.3, [8, 1, 1, 2]), strict=True):
        sub = "".join(p.capitalize() for p in part.split("-")[1:])
        ns = "Magento\\Framework" + (f"\\{sub}" if sub else "")
        units.append(Unit("framework", f"vendor/magento/{part}", ns, f"magento/{part}", k))

    lib_parts = ["Magento/Framework", "Magento/Setup", "LinLibertineFont"]
    for part, k in zip(lib_parts, split(n_lib, 3, rng, 0.3, [10, 2, 0.2]), strict=True):
        units.append(Unit("lib_internal", f"lib/internal/{part}", part.replace("/", "\\"), "", k))

    app_vendors = ["Smile", "Mirasvit", "Amasty", "StoreCo"]
    n_app_mod = max(1, round(n_app / 40))
    for i, k in enumerate(split(n_app, n_app_mod, rng, 0.8)):
        vendor = app_vendors[i % len(app_vendors)]
        name = f"{rng.choice(ENTITIES)}{rng.choice(['Import', 'Export', 'Sync', 'Feed', 'Grid'])}"
        name = f"{name}{i}" if any(u.rel.endswith("/" + name) for u in units) else name
        units.append(Unit("app_module", f"app/code/{vendor}/{name}", f"{vendor}\\{name}", "", k))

    weights = [w for _, _, w in VENDOR_LIBS]
    for (pkg, ns, _), k in zip(
        VENDOR_LIBS, split(n_vendor, len(VENDOR_LIBS), rng, 0.3, weights), strict=True
    ):
        if pkg.startswith("magento/module-"):
            units.append(Unit("magento_module", f"vendor/{pkg}", ns, pkg, k))
        else:
            units.append(Unit("vendor_lib", f"vendor/{pkg}", ns, pkg, k))
    return units


# ---------------------------------------------------------------------------------------
# Planted AI modules


@dataclass
class PlantedItem:
    id: str
    kind: str  # external_ai_call | hardcoded_key | prompt_logging | training_data_export
    #            | prompt_injection
    provider: str
    path: str
    start: str  # text on the first line of the item
    end: str | None  # text on its last line (None: one line)
    description: str
    host_in_code: bool = True
    line_start: int = 0
    line_end: int = 0


def fake_key(rng: random.Random, prefix: str, n: int) -> str:
    """A random, well-formed but fake key (letters and digits mixed, as real ones)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        body = "".join(rng.choice(alphabet) for _ in range(n))
        if any(ch.isdigit() for ch in body) and any(ch.isupper() for ch in body):
            return prefix + body


PLANTED_HEADER = "/**\n * Copyright © Acme Commerce. All rights reserved.\n */\n"


def planted_files(seed: int) -> tuple[dict[str, str], list[PlantedItem]]:
    rng = random.Random(f"{seed}:planted")
    openai_key = fake_key(rng, "sk-proj-", 48)
    openai_key_env = fake_key(rng, "sk-proj-", 48)
    anthropic_key = fake_key(rng, "sk-ant-api03-", 80)
    google_key = fake_key(rng, "AIza", 35)
    files: dict[str, str] = {}
    items: list[PlantedItem] = []

    # 1. Acme_AiProductWriter: OpenAI through Guzzle with catalog data and cost.
    m = "app/code/Acme/AiProductWriter"
    files[f"{m}/registration.php"] = registration_php("Acme_AiProductWriter")
    files[f"{m}/composer.json"] = composer_json(
        "acme/module-ai-product-writer",
        "Acme\\AiProductWriter",
        "1.2.0",
        {"guzzlehttp/guzzle": "^7.5", "magento/module-catalog": "*"},
    )
    files[f"{m}/etc/module.xml"] = module_xml("Acme_AiProductWriter", rng, ["Magento_Catalog"])
    files[f"{m}/etc/config.xml"] = (
        xml_header("module:Magento_Store:etc/config.xsd")
        + "    <default>\n        <acme_ai>\n            <general>\n"
        "                <enabled>1</enabled>\n"
        "                <endpoint>https://api.openai.com/v1</endpoint>\n"
        "                <model>gpt-4o-mini</model>\n"
        "            </general>\n        </acme_ai>\n    </default>\n</config>\n"
    )
    files[f"{m}/etc/adminhtml/system.xml"] = system_xml(rng, "acme_ai", "Acme_AiProductWriter")
    files[f"{m}/Model/DescriptionGenerator.php"] = f"""<?php
{PLANTED_HEADER}declare(strict_types=1);

namespace Acme\\AiProductWriter\\Model;

use GuzzleHttp\\Client;
use Magento\\Catalog\\Api\\ProductRepositoryInterface;
use Psr\\Log\\LoggerInterface;

/**
 * Writes product descriptions with an LLM.
 */
class DescriptionGenerator
{{
    private const API_KEY = '{openai_key}';

    /**
     * @var Client
     */
    private $client;

    /**
     * @param ProductRepositoryInterface $productRepository
     * @param LoggerInterface $logger
     */
    public function __construct(
        private readonly ProductRepositoryInterface $productRepository,
        private readonly LoggerInterface $logger
    ) {{
        $this->client = new Client(['timeout' => 30]);
    }}

    /**
     * @param string $sku
     * @return string
     */
    public function generate(string $sku): string
    {{
        $product = $this->productRepository->get($sku);
        $prompt = sprintf(
            "Write a product description for %s (SKU %s). Price %s, our cost %s. Notes: %s",
            $product->getName(),
            $product->getSku(),
            $product->getPrice(),
            $product->getCost(),
            $product->getDescription()
        );
        $this->logger->info('AI description prompt', ['prompt' => $prompt]);
        $response = $this->client->post('https://api.openai.com/v1/chat/completions', [
            'headers' => ['Authorization' => 'Bearer ' . self::API_KEY],
            'json' => [
                'model' => 'gpt-4o-mini',
                'messages' => [['role' => 'user', 'content' => $prompt]],
            ],
        ]);
        $body = json_decode((string)$response->getBody(), true);
        return (string)($body['choices'][0]['message']['content'] ?? '');
    }}
}}
"""
    p = f"{m}/Model/DescriptionGenerator.php"
    items += [
        PlantedItem(
            "writer-openai-guzzle",
            "external_ai_call",
            "openai",
            p,
            "$response = $this->client->post(",
            "        ]);",
            "Guzzle POST to api.openai.com with name, SKU, price and cost",
        ),
        PlantedItem(
            "writer-openai-key",
            "hardcoded_key",
            "openai",
            p,
            "private const API_KEY",
            None,
            "hardcoded OpenAI key (sk-proj-...) in a class constant",
        ),
        PlantedItem(
            "writer-prompt-log",
            "prompt_logging",
            "openai",
            p,
            "$this->logger->info('AI description prompt'",
            None,
            "prompt with cost data written to the PSR logger",
        ),
    ]
    files[f"{m}/Model/BulkRewriter.php"] = f"""<?php
{PLANTED_HEADER}declare(strict_types=1);

namespace Acme\\AiProductWriter\\Model;

use GuzzleHttp\\ClientInterface;
use Magento\\Catalog\\Model\\ResourceModel\\Product\\CollectionFactory;
use Magento\\Framework\\App\\Config\\ScopeConfigInterface;

/**
 * Rewrites the copy of a whole category; the endpoint comes from etc/config.xml.
 */
class BulkRewriter
{{
    private const XML_PATH_ENDPOINT = 'acme_ai/general/endpoint';

    /**
     * @param ClientInterface $httpClient
     * @param CollectionFactory $collectionFactory
     * @param ScopeConfigInterface $scopeConfig
     */
    public function __construct(
        private readonly ClientInterface $httpClient,
        private readonly CollectionFactory $collectionFactory,
        private readonly ScopeConfigInterface $scopeConfig
    ) {{
    }}

    /**
     * @param int $categoryId
     * @return array
     */
    public function rewriteCategory(int $categoryId): array
    {{
        $endpoint = (string)$this->scopeConfig->getValue(self::XML_PATH_ENDPOINT);
        $collection = $this->collectionFactory->create()
            ->addCategoriesFilter(['in' => [$categoryId]])
            ->addAttributeToSelect(['name', 'description', 'price', 'cost']);
        $rows = [];
        foreach ($collection as $product) {{
            $rows[] = $product->getName() . ': ' . $product->getPrice()
                . ' / ' . $product->getCost();
        }}
        $response = $this->httpClient->request('POST', $endpoint . '/chat/completions', [
            'json' => [
                'model' => 'gpt-4o-mini',
                'messages' => [['role' => 'user', 'content' => implode("\\n", $rows)]],
            ],
        ]);
        return json_decode((string)$response->getBody(), true) ?: [];
    }}
}}
"""
    items.append(
        PlantedItem(
            "writer-config-endpoint",
            "external_ai_call",
            "openai",
            f"{m}/Model/BulkRewriter.php",
            "$response = $this->httpClient->request(",
            "        ]);",
            "Guzzle request to the endpoint read from acme_ai/general/endpoint "
            "(api.openai.com, set in etc/config.xml) with a product collection's prices and cost",
            host_in_code=False,
        )
    )
    files[f"{m}/Cron/ExportTrainingData.php"] = f"""<?php
{PLANTED_HEADER}declare(strict_types=1);

namespace Acme\\AiProductWriter\\Cron;

use Magento\\Catalog\\Model\\ResourceModel\\Product\\CollectionFactory;
use Magento\\Framework\\App\\Filesystem\\DirectoryList;

/**
 * Nightly export of the catalogue, costs included, to fine-tune the description model.
 */
class ExportTrainingData
{{
    /**
     * @param CollectionFactory $collectionFactory
     * @param DirectoryList $directoryList
     */
    public function __construct(
        private readonly CollectionFactory $collectionFactory,
        private readonly DirectoryList $directoryList
    ) {{
    }}

    /**
     * @return void
     */
    public function execute(): void
    {{
        $file = $this->directoryList->getPath(DirectoryList::VAR_DIR) . '/export/fine_tune.csv';
        $handle = fopen($file, 'w');
        $collection = $this->collectionFactory->create()->addAttributeToSelect('*');
        foreach ($collection as $product) {{
            fputcsv($handle, [
                $product->getSku(),
                $product->getName(),
                $product->getDescription(),
                $product->getPrice(),
                $product->getData('cost'),
            ]);
        }}
        fclose($handle);
    }}
}}
"""
    items.append(
        PlantedItem(
            "writer-training-export",
            "training_data_export",
            "openai",
            f"{m}/Cron/ExportTrainingData.php",
            "foreach ($collection as $product) {",
            "        }",
            "fputcsv of the whole product collection with price and cost for fine-tuning",
        )
    )

    # 2. Acme_SupportAssistant: Anthropic through Magento's Curl with order and customer data.
    m = "app/code/Acme/SupportAssistant"
    files[f"{m}/registration.php"] = registration_php("Acme_SupportAssistant")
    files[f"{m}/etc/module.xml"] = module_xml("Acme_SupportAssistant", rng, ["Magento_Sales"])
    files[f"{m}/etc/frontend/routes.xml"] = (
        xml_header("framework:App/etc/routes.xsd")
        + '    <router id="standard">\n        <route id="assistant" frontName="assistant">\n'
        '            <module name="Acme_SupportAssistant"/>\n        </route>\n    </router>\n'
        "</config>\n"
    )
    files[f"{m}/Model/Assistant.php"] = f"""<?php
{PLANTED_HEADER}declare(strict_types=1);

namespace Acme\\SupportAssistant\\Model;

use Magento\\Framework\\HTTP\\Client\\Curl;
use Magento\\Sales\\Api\\OrderRepositoryInterface;
use Psr\\Log\\LoggerInterface;

/**
 * Answers "where is my order" questions with Claude.
 */
class Assistant
{{
    private const ANTHROPIC_KEY = '{anthropic_key}';

    /**
     * @param Curl $curl
     * @param OrderRepositoryInterface $orderRepository
     * @param LoggerInterface $logger
     */
    public function __construct(
        private readonly Curl $curl,
        private readonly OrderRepositoryInterface $orderRepository,
        private readonly LoggerInterface $logger
    ) {{
    }}

    /**
     * @param int $orderId
     * @param string $question
     * @return string
     */
    public function answer(int $orderId, string $question): string
    {{
        $order = $this->orderRepository->get($orderId);
        $address = $order->getBillingAddress();
        $context = [
            'email' => $order->getCustomerEmail(),
            'name' => $order->getCustomerFirstname() . ' ' . $order->getCustomerLastname(),
            'street' => implode(' ', $address->getStreet()),
            'telephone' => $address->getTelephone(),
            'total' => $order->getGrandTotal(),
            'status' => $order->getStatus(),
        ];
        $payload = [
            'model' => 'claude-3-5-sonnet-latest',
            'max_tokens' => 512,
            'messages' => [[
                'role' => 'user',
                'content' => json_encode($context) . "\\n\\n" . $question,
            ]],
        ];
        $this->curl->addHeader('x-api-key', self::ANTHROPIC_KEY);
        $this->curl->addHeader('anthropic-version', '2023-06-01');
        $this->curl->addHeader('content-type', 'application/json');
        $this->curl->post('https://api.anthropic.com/v1/messages', json_encode($payload));
        $reply = $this->curl->getBody();
        $this->logger->debug('assistant response', ['response' => $reply, 'order' => $orderId]);
        $data = json_decode($reply, true);
        return (string)($data['content'][0]['text'] ?? '');
    }}
}}
"""
    p = f"{m}/Model/Assistant.php"
    items += [
        PlantedItem(
            "assistant-anthropic-curl",
            "external_ai_call",
            "anthropic",
            p,
            "$this->curl->post('https://api.anthropic.com",
            None,
            "Magento Curl POST to api.anthropic.com with the order's email, name, "
            "billing address and phone",
        ),
        PlantedItem(
            "assistant-anthropic-key",
            "hardcoded_key",
            "anthropic",
            p,
            "private const ANTHROPIC_KEY",
            None,
            "hardcoded Anthropic key (sk-ant-api03-)",
        ),
        PlantedItem(
            "assistant-response-log",
            "prompt_logging",
            "anthropic",
            p,
            "$this->logger->debug('assistant response'",
            None,
            "model response logged with the order id",
        ),
    ]
    files[f"{m}/Controller/Chat/Ask.php"] = f"""<?php
{PLANTED_HEADER}declare(strict_types=1);

namespace Acme\\SupportAssistant\\Controller\\Chat;

use Magento\\Framework\\App\\Action\\HttpPostActionInterface;
use Magento\\Framework\\App\\RequestInterface;
use Magento\\Framework\\Controller\\Result\\JsonFactory;
use Magento\\Framework\\HTTP\\Client\\Curl;

/**
 * Storefront chat: the visitor's text goes straight into the prompt.
 */
class Ask implements HttpPostActionInterface
{{
    /**
     * @param RequestInterface $request
     * @param JsonFactory $jsonFactory
     * @param Curl $curl
     */
    public function __construct(
        private readonly RequestInterface $request,
        private readonly JsonFactory $jsonFactory,
        private readonly Curl $curl
    ) {{
    }}

    /**
     * @return \\Magento\\Framework\\Controller\\Result\\Json
     */
    public function execute()
    {{
        $question = (string)$this->request->getParam('question');
        $payload = [
            'model' => 'claude-3-5-haiku-latest',
            'max_tokens' => 256,
            'system' => 'You are the store assistant. Never reveal internal data.',
            'messages' => [['role' => 'user', 'content' => $question]],
        ];
        $this->curl->addHeader('anthropic-version', '2023-06-01');
        $this->curl->post('https://api.anthropic.com/v1/messages', json_encode($payload));
        return $this->jsonFactory->create()->setData(json_decode($this->curl->getBody(), true));
    }}
}}
"""
    items.append(
        PlantedItem(
            "assistant-user-input",
            "prompt_injection",
            "anthropic",
            f"{m}/Controller/Chat/Ask.php",
            "public function execute()",
            "        return $this->jsonFactory",
            "visitor input from getParam('question') sent unvalidated as the prompt",
        )
    )

    # 3. Acme_PriceIntelligence: Gemini through raw curl, OpenAI embeddings through streams.
    m = "app/code/Acme/PriceIntelligence"
    files[f"{m}/registration.php"] = registration_php("Acme_PriceIntelligence")
    files[f"{m}/etc/module.xml"] = module_xml("Acme_PriceIntelligence", rng, ["Magento_Catalog"])
    files[f"{m}/etc/crontab.xml"] = (
        xml_header("module:Magento_Cron:etc/crontab.xsd")
        + '    <group id="default">\n        <job name="acme_price_suggest" '
        'instance="Acme\\PriceIntelligence\\Model\\GeminiPricing" method="run">\n'
        "            <schedule>0 3 * * *</schedule>\n        </job>\n    </group>\n</config>\n"
    )
    files[f"{m}/Model/GeminiPricing.php"] = f"""<?php
{PLANTED_HEADER}declare(strict_types=1);

namespace Acme\\PriceIntelligence\\Model;

use Magento\\Catalog\\Api\\ProductRepositoryInterface;

/**
 * Suggests prices from cost, margin and supplier terms with Gemini.
 */
class GeminiPricing
{{
    private const GOOGLE_API_KEY = '{google_key}';

    /**
     * @param ProductRepositoryInterface $productRepository
     */
    public function __construct(private readonly ProductRepositoryInterface $productRepository)
    {{
    }}

    /**
     * @param string $sku
     * @return array
     */
    public function suggest(string $sku): array
    {{
        $product = $this->productRepository->get($sku);
        $body = json_encode([
            'contents' => [[
                'parts' => [[
                    'text' => 'Suggest a price. Cost: ' . $product->getCost()
                        . ', current price: ' . $product->getPrice()
                        . ', supplier: ' . $product->getData('supplier_name'),
                ]],
            ]],
        ]);
        $ch = curl_init();
        curl_setopt($ch, CURLOPT_URL, 'https://generativelanguage.googleapis.com/v1beta/models/'
            . 'gemini-1.5-pro:generateContent?key=' . self::GOOGLE_API_KEY);
        curl_setopt($ch, CURLOPT_POST, true);
        curl_setopt($ch, CURLOPT_HTTPHEADER, ['Content-Type: application/json']);
        curl_setopt($ch, CURLOPT_POSTFIELDS, $body);
        curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
        $result = curl_exec($ch);
        curl_close($ch);
        return json_decode((string)$result, true) ?: [];
    }}
}}
"""
    p = f"{m}/Model/GeminiPricing.php"
    items += [
        PlantedItem(
            "pricing-gemini-curl",
            "external_ai_call",
            "google_gemini",
            p,
            "curl_setopt($ch, CURLOPT_URL",
            "$result = curl_exec($ch);",
            "curl to generativelanguage.googleapis.com with cost, price and supplier",
        ),
        PlantedItem(
            "pricing-google-key",
            "hardcoded_key",
            "google_gemini",
            p,
            "private const GOOGLE_API_KEY",
            None,
            "hardcoded Google API key (AIza...)",
        ),
    ]
    files[f"{m}/Model/EmbeddingIndexer.php"] = f"""<?php
{PLANTED_HEADER}declare(strict_types=1);

namespace Acme\\PriceIntelligence\\Model;

use Magento\\Catalog\\Api\\Data\\ProductInterface;
use Magento\\Framework\\App\\DeploymentConfig;

/**
 * Embeds product copy for similar-product search, through PHP streams.
 */
class EmbeddingIndexer
{{
    /**
     * @param DeploymentConfig $deploymentConfig
     */
    public function __construct(private readonly DeploymentConfig $deploymentConfig)
    {{
    }}

    /**
     * @param ProductInterface $product
     * @return array
     */
    public function embed(ProductInterface $product): array
    {{
        $key = (string)$this->deploymentConfig->get('acme/openai_key');
        $context = stream_context_create([
            'http' => [
                'method' => 'POST',
                'header' => "Content-Type: application/json\\r\\nAuthorization: Bearer " . $key,
                'content' => json_encode([
                    'model' => 'text-embedding-3-small',
                    'input' => $product->getName() . ' ' . $product->getDescription()
                        . ' ' . $product->getPrice(),
                ]),
            ],
        ]);
        $raw = file_get_contents('https://api.openai.com/v1/embeddings', false, $context);
        return json_decode((string)$raw, true)['data'][0]['embedding'] ?? [];
    }}
}}
"""
    items.append(
        PlantedItem(
            "pricing-openai-stream",
            "external_ai_call",
            "openai",
            f"{m}/Model/EmbeddingIndexer.php",
            "$raw = file_get_contents('https://api.openai.com",
            None,
            "file_get_contents with a stream context POSTing product copy and price to "
            "api.openai.com/v1/embeddings",
        )
    )

    # 4. vendor/aiwave/module-ai-search: a composer package on openai-php/client.
    m = "vendor/aiwave/module-ai-search"
    files[f"{m}/registration.php"] = registration_php("Aiwave_AiSearch")
    files[f"{m}/composer.json"] = composer_json(
        "aiwave/module-ai-search",
        "Aiwave\\AiSearch",
        "2.3.1",
        {"openai-php/client": "^0.10", "magento/module-catalog-search": "*"},
    )
    files[f"{m}/etc/module.xml"] = module_xml("Aiwave_AiSearch", rng, ["Magento_CatalogSearch"])
    files[f"{m}/Model/SemanticSearch.php"] = f"""<?php
{PLANTED_HEADER}declare(strict_types=1);

namespace Aiwave\\AiSearch\\Model;

use Magento\\Catalog\\Model\\ResourceModel\\Product\\CollectionFactory;
use Magento\\Framework\\App\\Config\\ScopeConfigInterface;
use OpenAI;
use Psr\\Log\\LoggerInterface;

/**
 * Re-ranks search results with an LLM.
 */
class SemanticSearch
{{
    /**
     * @param CollectionFactory $collectionFactory
     * @param ScopeConfigInterface $scopeConfig
     * @param LoggerInterface $logger
     */
    public function __construct(
        private readonly CollectionFactory $collectionFactory,
        private readonly ScopeConfigInterface $scopeConfig,
        private readonly LoggerInterface $logger
    ) {{
    }}

    /**
     * @param string $query
     * @return array
     */
    public function rerank(string $query): array
    {{
        $apiKey = (string)$this->scopeConfig->getValue('aiwave_search/general/api_key');
        $client = OpenAI::client($apiKey);
        $lines = [];
        foreach ($this->collectionFactory->create()->setPageSize(50) as $product) {{
            $lines[] = $product->getSku() . ' | ' . $product->getName()
                . ' | ' . $product->getFinalPrice();
        }}
        $result = $client->chat()->create([
            'model' => 'gpt-4o-mini',
            'messages' => [
                ['role' => 'system', 'content' => 'Rank these products for the query.'],
                ['role' => 'user', 'content' => $query . "\\n" . implode("\\n", $lines)],
            ],
        ]);
        $this->logger->info('aiwave completion', [
            'prompt' => $query,
            'response' => $result->toArray(),
        ]);
        return $result->choices;
    }}
}}
"""
    p = f"{m}/Model/SemanticSearch.php"
    items += [
        PlantedItem(
            "aiwave-openai-sdk",
            "external_ai_call",
            "openai",
            p,
            "$result = $client->chat()->create(",
            "        ]);",
            "openai-php client chat()->create() with product SKUs, names and prices",
            host_in_code=False,
        ),
        PlantedItem(
            "aiwave-completion-log",
            "prompt_logging",
            "openai",
            p,
            "$this->logger->info('aiwave completion'",
            None,
            "query and model response written to the PSR logger",
        ),
    ]
    files[f"{m}/view/frontend/web/js/assistant.js"] = """/**
 * Aiwave storefront assistant.
 */
define(['jquery', 'Magento_Customer/js/customer-data'], function ($, customerData) {
    'use strict';

    return function (config) {
        var cart = customerData.get('cart')();

        return fetch('https://api.openai.com/v1/chat/completions', {
            method: 'POST',
            headers: {
                'Content-Type': 'application/json',
                'Authorization': 'Bearer ' + config.apiKey
            },
            body: JSON.stringify({
                model: 'gpt-4o-mini',
                messages: [{role: 'user', content: JSON.stringify(cart.items)}]
            })
        }).then(function (response) {
            return response.json();
        });
    };
});
"""
    items.append(
        PlantedItem(
            "aiwave-js-fetch",
            "external_ai_call",
            "openai",
            f"{m}/view/frontend/web/js/assistant.js",
            "return fetch('https://api.openai.com",
            "        })",
            "browser fetch() to api.openai.com with the cart's items and a key from config",
        )
    )

    # 5. app/etc/env.php holds a key in its system config.
    files["app/etc/env.php"] = env_php(rng, openai_key_env)
    items.append(
        PlantedItem(
            "env-openai-key",
            "hardcoded_key",
            "openai",
            "app/etc/env.php",
            "'api_key' => 'sk-proj-",
            None,
            "OpenAI key in app/etc/env.php system config",
        )
    )

    for it in items:
        text = files[it.path].split("\n")
        it.line_start = next(i for i, line in enumerate(text, 1) if it.start in line)
        if it.end is None:
            it.line_end = it.line_start
        else:
            it.line_end = next(
                i for i, line in enumerate(text, 1) if i > it.line_start and it.end in line
            )
    return files, items


def env_php(rng: random.Random, key: str) -> str:
    crypt = "".join(rng.choice("0123456789abcdef") for _ in range(32))
    return f"""<?php
return [
    'backend' => [
        'frontName' => 'admin_{crypt[:6]}'
    ],
    'remote_storage' => [
        'driver' => 'file'
    ],
    'queue' => [
        'consumers_wait_for_messages' => 1
    ],
    'crypt' => [
        'key' => '{crypt}'
    ],
    'db' => [
        'table_prefix' => '',
        'connection' => [
            'default' => [
                'host' => 'localhost',
                'dbname' => 'magento',
                'username' => 'magento',
                'password' => 'magento',
                'model' => 'mysql4',
                'engine' => 'innodb',
                'initStatements' => 'SET NAMES utf8;',
                'active' => '1',
                'driver_options' => [
                    1014 => false
                ]
            ]
        ]
    ],
    'resource' => [
        'default_setup' => [
            'connection' => 'default'
        ]
    ],
    'x-frame-options' => 'SAMEORIGIN',
    'MAGE_MODE' => 'production',
    'session' => [
        'save' => 'files'
    ],
    'cache' => [
        'frontend' => [
            'default' => [
                'id_prefix' => '{crypt[:3]}_'
            ],
            'page_cache' => [
                'id_prefix' => '{crypt[:3]}_'
            ]
        ],
        'allow_parallel_generation' => false
    ],
    'lock' => [
        'provider' => 'db'
    ],
    'system' => [
        'default' => [
            'aiwave_search' => [
                'general' => [
                    'enabled' => '1',
                    'api_key' => '{key}'
                ]
            ]
        ]
    ],
    'install' => [
        'date' => 'Tue, 14 Mar 2023 10:12:41 +0000'
    ]
];
"""


def config_php(modules: list[str]) -> str:
    rows = "".join(f"        '{m}' => 1,\n" for m in modules)
    return f"<?php\nreturn [\n    'modules' => [\n{rows}    ]\n];\n"


def composer_lock(units: list[Unit]) -> str:
    packages = []
    for u in sorted(units, key=lambda u: u.package):
        if not u.package:
            continue
        packages.append(
            {
                "name": u.package,
                "version": "103.0.6" if u.package.startswith("magento/") else "2.4.0",
                "dist": {
                    "type": "zip",
                    "url": f"https://repo.magento.com/archives/{u.package}.zip",
                    "shasum": "",
                },
                "require": {"php": "~8.1.0||~8.2.0"},
                "type": "magento2-module" if u.kind == "magento_module" else "library",
                "autoload": {"psr-4": {u.namespace + "\\": "src/"}},
                "license": ["OSL-3.0"],
                "description": "N/A",
            }
        )
    packages.append(
        {
            "name": "aiwave/module-ai-search",
            "version": "2.3.1",
            "require": {"openai-php/client": "^0.10"},
            "type": "magento2-module",
        }
    )
    packages.append(
        {
            "name": "openai-php/client",
            "version": "v0.10.3",
            "require": {"php": "^8.1"},
            "type": "library",
        }
    )
    return (
        json.dumps(
            {
                "_readme": ["This file locks the dependencies of your project."],
                "content-hash": "0" * 32,
                "packages": packages,
                "packages-dev": [],
                "minimum-stability": "stable",
            },
            indent=4,
        )
        + "\n"
    )


# ---------------------------------------------------------------------------------------


def generate(out: Path, files: int, seed: int, jobs: int) -> tuple[Written, int, float]:
    """Write the tree and PLANTED.json; returns (what was written, planted items, seconds)."""
    t0 = time.perf_counter()
    planted, items = planted_files(seed)
    planted_php = sum(1 for p in planted if p.endswith(".php") and p != "app/etc/env.php")
    units = plan_units(files, seed, planted_php)
    out.mkdir(parents=True, exist_ok=True)

    total = Written()
    work = [(str(out), seed, u) for u in sorted(units, key=lambda u: -u.php_files)]
    if jobs > 1:
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(jobs) as pool:
            for stats in pool.imap_unordered(write_unit, work, chunksize=1):
                total.add(stats)
    else:
        for job in work:
            total.add(write_unit(job))

    w = Writer(out)
    for rel, text in planted.items():
        w.write(rel, text)
    modules = sorted(
        [
            u.namespace.replace("\\", "_")
            for u in units
            if u.kind in ("magento_module", "app_module")
        ]
        + [
            "Acme_AiProductWriter",
            "Acme_SupportAssistant",
            "Acme_PriceIntelligence",
            "Aiwave_AiSearch",
        ]
    )
    w.write("app/etc/config.php", config_php(modules))
    w.write(
        "pub/index.php", "<?php\n" + COPYRIGHT + "\nrequire __DIR__ . '/../app/bootstrap.php';\n"
    )
    w.write(
        "app/bootstrap.php", "<?php\n" + COPYRIGHT + "\nrequire_once __DIR__ . '/autoload.php';\n"
    )
    w.write(
        "app/design/frontend/StoreCo/luma-child/registration.php",
        registration_php("frontend/StoreCo/luma-child").replace("MODULE", "THEME"),
    )
    w.write(
        "app/design/frontend/StoreCo/luma-child/theme.xml",
        '<theme xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        "    <title>Luma child</title>\n    <parent>Magento/luma</parent>\n</theme>\n",
    )
    w.write(
        "composer.json",
        json.dumps(
            {
                "name": "storeco/shop",
                "type": "project",
                "license": ["proprietary"],
                "require": {
                    "magento/product-community-edition": "2.4.6",
                    "aiwave/module-ai-search": "^2.3",
                },
                "autoload": {"psr-4": {"Acme\\": "app/code/Acme/"}},
            },
            indent=4,
        )
        + "\n",
    )
    lock = composer_lock(units)
    w.write("composer.lock", lock)
    total.add(w.stats)
    lock_lines = lock.split("\n")
    first = next(
        i for i, line in enumerate(lock_lines, 1) if '"name": "aiwave/module-ai-search"' in line
    )
    sdk = next(i for i, line in enumerate(lock_lines, 1) if '"name": "openai-php/client"' in line)
    last = next(i for i, line in enumerate(lock_lines, 1) if i > sdk and line.strip() == "}")
    items.append(
        PlantedItem(
            "composer-openai-sdk",
            "ai_dependency",
            "openai",
            "composer.lock",
            '"name": "aiwave/module-ai-search"',
            None,
            "composer.lock locks aiwave/module-ai-search and its AI SDK, openai-php/client",
            host_in_code=False,
            line_start=first,
            line_end=last,
        )
    )
    elapsed = time.perf_counter() - t0

    manifest: dict[str, object] = {
        "generator": "bench/gen_magento_tree.py",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "files_requested": files,
        "stats": {
            "php_files": total.php_files,
            "php_bytes": total.php_bytes,
            "files": total.php_files + total.other_files,
            "bytes": total.php_bytes + total.other_bytes,
            "units": len(units),
            "generation_seconds": round(elapsed, 2),
        },
        "modules": [
            "app/code/Acme/AiProductWriter",
            "app/code/Acme/SupportAssistant",
            "app/code/Acme/PriceIntelligence",
            "vendor/aiwave/module-ai-search",
        ],
        "items": [
            {
                "id": it.id,
                "kind": it.kind,
                "provider": it.provider,
                "path": it.path,
                "line_start": it.line_start,
                "line_end": it.line_end,
                "host_in_code": it.host_in_code,
                "description": it.description,
            }
            for it in items
        ],
    }
    (out / "PLANTED.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return total, len(items), elapsed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=30000, help="PHP files to write (default 30000)")
    ap.add_argument("--out", type=Path, required=True, help="folder to write the tree into")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes (the output does not depend on it)",
    )
    ap.add_argument("--force", action="store_true", help="replace --out if it exists")
    args = ap.parse_args(argv)
    if args.files < 100:
        ap.error("--files must be at least 100")
    if args.out.exists() and any(args.out.iterdir()):
        if not args.force:
            print(f"{args.out} exists and is not empty (use --force)", file=sys.stderr)
            return 2
        shutil.rmtree(args.out)
    st, n_items, elapsed = generate(args.out, args.files, args.seed, args.jobs)
    print(
        f"{args.out}: {st.php_files} PHP files, {st.php_bytes / 1e6:.1f} MB of PHP "
        f"(avg {st.php_bytes / max(1, st.php_files) / 1e3:.2f} KB); "
        f"{st.php_files + st.other_files} files, "
        f"{(st.php_bytes + st.other_bytes) / 1e6:.1f} MB in all; "
        f"{n_items} planted items; {elapsed:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
