<?php
declare(strict_types=1);

// Autoloads the connector module that tests/fix/test_connector.py rendered (its directory in
// MAGEGUARD_CONNECTOR_DIR), the test doubles and helpers in tests/, and the stubs.
$module = getenv('MAGEGUARD_CONNECTOR_DIR');
if (!is_string($module) || !is_file($module . '/registration.php')) {
    fwrite(STDERR, "MAGEGUARD_CONNECTOR_DIR must name a rendered Mageguard_Connector module\n");
    exit(2);
}
$roots = [
    'Mageguard\\Connector\\' => $module,
    'Mageguard\\ConnectorTest\\' => __DIR__ . '/tests',
    '' => __DIR__ . '/stubs',
];
spl_autoload_register(static function (string $class) use ($roots): void {
    foreach ($roots as $prefix => $dir) {
        if (str_starts_with($class, $prefix)) {
            $file = $dir . '/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
            if (is_file($file)) {
                require $file;
                return;
            }
        }
    }
});
