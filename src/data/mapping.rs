//! Which column of a file holds which field: aliases planners' exports use,
//! and the explicit `--map field=column` the planner can give.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a data file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    /// Daily (or finer) sales: date, sku, warehouse, quantity.
    Sales,
    /// Transaction lines of an order system (invoice, timestamp, ...).
    Transactions,
    Products,
    Inventory,
    Warehouses,
    Orders,
    Fleet,
    /// Known events: date, optional warehouse, name and a flag such as a
    /// holiday or a markdown week.
    Events,
    /// Selling prices by SKU (and store, week or date: M5's
    /// `sell_prices.csv`), read as each SKU's price.
    Prices,
}

impl FileKind {
    pub const ALL: [FileKind; 9] = [
        FileKind::Sales,
        FileKind::Transactions,
        FileKind::Products,
        FileKind::Inventory,
        FileKind::Warehouses,
        FileKind::Orders,
        FileKind::Fleet,
        FileKind::Events,
        FileKind::Prices,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FileKind::Sales => "sales",
            FileKind::Transactions => "transactions",
            FileKind::Products => "products",
            FileKind::Inventory => "inventory",
            FileKind::Warehouses => "warehouses",
            FileKind::Orders => "orders",
            FileKind::Fleet => "fleet",
            FileKind::Events => "events",
            FileKind::Prices => "prices",
        }
    }

    /// The kind a file stem names exactly (the names `skuplan sample-data`
    /// writes), if any.
    pub fn from_stem(stem: &str) -> Option<FileKind> {
        let s = normalize(stem);
        if ["calendar", "holidays", "events"].contains(&s.as_str()) {
            return Some(FileKind::Events);
        }
        // Not prices: a file of that name is as often the product list
        // with its prices; its columns tell (see `detect_kind`).
        FileKind::ALL
            .into_iter()
            .filter(|k| *k != FileKind::Prices)
            .find(|k| s == k.name())
    }

    /// The fields of this kind: (field, required).
    pub fn fields(self) -> &'static [(Field, bool)] {
        use Field::*;
        match self {
            FileKind::Sales => &[
                (Date, true),
                (Sku, true),
                (Warehouse, false),
                (Quantity, true),
                (Price, false),
                (Promo, false),
                (Flag, false),
            ],
            FileKind::Transactions => &[
                (Invoice, true),
                (Date, true),
                (Sku, true),
                (Description, false),
                (Quantity, true),
                (Price, false),
                (Customer, false),
                (Country, false),
                (Warehouse, false),
            ],
            FileKind::Products => &[
                (Sku, true),
                (Title, false),
                (Category, false),
                (Brand, false),
                (UnitCost, false),
                (Price, false),
                (PackSize, false),
                (Moq, false),
                (LeadTime, false),
                (Supplier, false),
                (LaunchDate, false),
            ],
            FileKind::Inventory => &[
                (Sku, true),
                (Warehouse, true),
                (OnHand, true),
                (OnOrder, false),
                (DueDate, false),
            ],
            FileKind::Warehouses => &[
                (Id, true),
                (Name, false),
                (Lat, false),
                (Lon, false),
                (X, false),
                (Y, false),
            ],
            FileKind::Orders => &[
                (Id, true),
                (Warehouse, true),
                (Customer, false),
                (Lat, false),
                (Lon, false),
                (X, false),
                (Y, false),
                (Quantity, true),
                (Date, false),
                (Ready, false),
                (Due, false),
                (Service, false),
            ],
            FileKind::Fleet => &[
                (Id, true),
                (Warehouse, true),
                (Capacity, true),
                (ShiftStart, false),
                (ShiftEnd, false),
                (Speed, false),
                (CostPerKm, false),
            ],
            FileKind::Events => &[(Date, true), (Warehouse, false), (Event, false), (Flag, false)],
            FileKind::Prices => &[(Sku, true), (Warehouse, false), (Price, true)],
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A logical field; `--map` names these on its left side. The config's
/// `map` and the workspace's files name them the same way, by
/// [`Field::name`] (until session 26 serde's own names, `lead_time`,
/// `service` and `speed`, which `--map` and README did not know; those are
/// still read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum Field {
    Date,
    Sku,
    Warehouse,
    Quantity,
    Price,
    Promo,
    Invoice,
    Description,
    Customer,
    Country,
    Title,
    Category,
    Brand,
    UnitCost,
    PackSize,
    Moq,
    LeadTime,
    Supplier,
    OnHand,
    OnOrder,
    DueDate,
    LaunchDate,
    Id,
    Name,
    Lat,
    Lon,
    X,
    Y,
    Ready,
    Due,
    Service,
    Capacity,
    ShiftStart,
    ShiftEnd,
    Speed,
    CostPerKm,
    /// An event's name.
    Event,
    /// An event's flag or kind (IsHoliday, markdown, type).
    Flag,
}

impl Field {
    pub const ALL: [Field; 38] = [
        Field::Date,
        Field::Sku,
        Field::Warehouse,
        Field::Quantity,
        Field::Price,
        Field::Promo,
        Field::Invoice,
        Field::Description,
        Field::Customer,
        Field::Country,
        Field::Title,
        Field::Category,
        Field::Brand,
        Field::UnitCost,
        Field::PackSize,
        Field::Moq,
        Field::LeadTime,
        Field::Supplier,
        Field::OnHand,
        Field::OnOrder,
        Field::DueDate,
        Field::LaunchDate,
        Field::Id,
        Field::Name,
        Field::Lat,
        Field::Lon,
        Field::X,
        Field::Y,
        Field::Ready,
        Field::Due,
        Field::Service,
        Field::Capacity,
        Field::ShiftStart,
        Field::ShiftEnd,
        Field::Speed,
        Field::CostPerKm,
        Field::Event,
        Field::Flag,
    ];

    /// The name used in `--map` and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Field::Date => "date",
            Field::Sku => "sku",
            Field::Warehouse => "warehouse",
            Field::Quantity => "quantity",
            Field::Price => "price",
            Field::Promo => "promo",
            Field::Invoice => "invoice",
            Field::Description => "description",
            Field::Customer => "customer",
            Field::Country => "country",
            Field::Title => "title",
            Field::Category => "category",
            Field::Brand => "brand",
            Field::UnitCost => "unit_cost",
            Field::PackSize => "pack_size",
            Field::Moq => "moq",
            Field::LeadTime => "lead_time_days",
            Field::Supplier => "supplier",
            Field::OnHand => "on_hand",
            Field::OnOrder => "on_order",
            Field::DueDate => "due_date",
            Field::LaunchDate => "launch_date",
            Field::Id => "id",
            Field::Name => "name",
            Field::Lat => "lat",
            Field::Lon => "lon",
            Field::X => "x",
            Field::Y => "y",
            Field::Ready => "ready",
            Field::Due => "due",
            Field::Service => "service_min",
            Field::Capacity => "capacity",
            Field::ShiftStart => "shift_start",
            Field::ShiftEnd => "shift_end",
            Field::Speed => "speed_kmh",
            Field::CostPerKm => "cost_per_km",
            Field::Event => "event",
            Field::Flag => "flag",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl TryFrom<String> for Field {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Field> for &'static str {
    fn from(f: Field) -> Self {
        f.name()
    }
}

impl FromStr for Field {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let n = normalize(s);
        let earlier = match n.as_str() {
            "leadtime" => Some(Field::LeadTime),
            "service" => Some(Field::Service),
            "speed" => Some(Field::Speed),
            _ => None,
        };
        Field::ALL
            .into_iter()
            .find(|f| normalize(f.name()) == n)
            .or(earlier)
            .ok_or_else(|| {
                let names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
                format!("unknown field '{s}'; fields are: {}", names.join(", "))
            })
    }
}

/// Cell values read as "yes" in flag columns (promo, IsHoliday), lower case.
pub const YES: [&str; 6] = ["1", "1.0", "true", "yes", "y", "t"];
/// Cell values read as "no".
pub const NO: [&str; 6] = ["0", "0.0", "false", "no", "n", "f"];

/// The kind of event a flag column's name tells: "IsHoliday" -> "holiday",
/// "markdown_week" -> "markdown"; "event" otherwise.
pub fn flag_kind(column: &str) -> &'static str {
    let n = normalize(column);
    ["holiday", "markdown", "promo"]
        .into_iter()
        .find(|w| n.contains(w))
        .unwrap_or("event")
}

/// Lower case, letters and digits only: "Invoice Date" and "invoice_date"
/// are the same column to us.
pub fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The planner's explicit mapping: field -> source column name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ColumnMap(pub BTreeMap<Field, String>);

impl ColumnMap {
    pub fn get(&self, field: Field) -> Option<&str> {
        self.0.get(&field).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Entries of `other` win.
    pub fn merged_with(&self, other: &ColumnMap) -> ColumnMap {
        let mut out = self.clone();
        for (k, v) in &other.0 {
            out.0.insert(*k, v.clone());
        }
        out
    }
}

impl FromStr for ColumnMap {
    type Err = String;

    /// `sku=item,warehouse=store,quantity=sales`
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut map: BTreeMap<Field, String> = BTreeMap::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, column) = part
                .split_once('=')
                .ok_or_else(|| format!("'{part}' in --map should look like field=column, e.g. sku=item"))?;
            let field: Field = field.trim().parse()?;
            let column = column.trim();
            if column.is_empty() {
                return Err(format!("'{part}' in --map names no column"));
            }
            if map.insert(field, column.to_string()).is_some() {
                return Err(format!("--map gives field '{field}' twice"));
            }
        }
        Ok(ColumnMap(map))
    }
}

impl fmt::Display for ColumnMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
        f.write_str(&parts.join(","))
    }
}

/// Resolve which header column holds each field of `kind`. Returns
/// field -> actual header name. An explicit mapping wins over aliases; a
/// column is never used for two fields.
pub fn resolve(kind: FileKind, headers: &[String], map: &ColumnMap) -> BTreeMap<Field, String> {
    resolve_by(kind, headers, map, true)
}

/// [`resolve`], with the fields' weak aliases or without them.
fn resolve_by(kind: FileKind, headers: &[String], map: &ColumnMap, weak: bool) -> BTreeMap<Field, String> {
    let norm: Vec<String> = headers.iter().map(|h| normalize(h)).collect();
    let mut used = vec![false; headers.len()];
    let mut out = BTreeMap::new();
    // Explicit mappings first, so aliases cannot steal their columns.
    for (field, _) in kind.fields() {
        if let Some(src) = map.get(*field) {
            let n = normalize(src);
            if let Some(i) = norm.iter().position(|h| *h == n) {
                used[i] = true;
                out.insert(*field, headers[i].clone());
            }
        }
    }
    // Then aliases in order of preference (a field's earlier aliases win),
    // and weak aliases for the fields still without a column.
    let passes: [fn(Field, FileKind) -> &'static [&'static str]; 2] = [Field::aliases, |f, _| f.weak_aliases()];
    for aliases in passes.iter().take(if weak { 2 } else { 1 }) {
        for (field, _) in kind.fields() {
            if out.contains_key(field) {
                continue;
            }
            let free = aliases(*field, kind)
                .iter()
                .find_map(|alias| norm.iter().position(|h| h == alias).filter(|i| !used[*i]));
            if let Some(i) = free {
                used[i] = true;
                out.insert(*field, headers[i].clone());
            }
        }
    }
    out
}

/// Fields that more than one column of a file could give: the column
/// [`resolve`] chose by alias and every other column, left unused, that is
/// also an alias of the field (e.g. `qty` beside `quantity`). Reading one of
/// them and ignoring the other would be a silent guess; an explicit
/// `--map field=column` settles it, so mapped fields are never listed.
/// Columns are given in the file's order.
pub fn ambiguous(
    kind: FileKind,
    headers: &[String],
    map: &ColumnMap,
    resolved: &BTreeMap<Field, String>,
) -> Vec<(Field, Vec<String>)> {
    let used: Vec<bool> = headers.iter().map(|h| resolved.values().any(|r| r == h)).collect();
    let mut out = Vec::new();
    for (field, _) in kind.fields() {
        let Some(chosen) = resolved.get(field) else {
            continue;
        };
        if map.get(*field).is_some_and(|src| normalize(src) == normalize(chosen)) {
            continue;
        }
        let aliases = field.aliases(kind);
        let columns: Vec<String> = headers
            .iter()
            .zip(&used)
            .filter(|(h, u)| *h == chosen || (!**u && aliases.contains(&normalize(h).as_str())))
            .map(|(h, _)| h.clone())
            .collect();
        if columns.len() > 1 {
            out.push((*field, columns));
        }
    }
    out
}

/// Guess what a file holds from its columns (after the planner's mapping).
pub fn detect_kind(headers: &[String], map: &ColumnMap) -> Option<FileKind> {
    let has = |kind: FileKind, field: Field| resolve(kind, headers, map).contains_key(&field);
    if has(FileKind::Transactions, Field::Invoice)
        && has(FileKind::Transactions, Field::Sku)
        && has(FileKind::Transactions, Field::Quantity)
    {
        return Some(FileKind::Transactions);
    }
    if has(FileKind::Fleet, Field::Capacity) {
        return Some(FileKind::Fleet);
    }
    if has(FileKind::Inventory, Field::OnHand) && has(FileKind::Inventory, Field::Sku) {
        return Some(FileKind::Inventory);
    }
    let located = (has(FileKind::Orders, Field::Lat) && has(FileKind::Orders, Field::Lon))
        || (has(FileKind::Orders, Field::X) && has(FileKind::Orders, Field::Y));
    if located && has(FileKind::Orders, Field::Quantity) {
        return Some(FileKind::Orders);
    }
    if has(FileKind::Sales, Field::Date) && has(FileKind::Sales, Field::Sku) && has(FileKind::Sales, Field::Quantity) {
        return Some(FileKind::Sales);
    }
    if has(FileKind::Events, Field::Date)
        && (has(FileKind::Events, Field::Flag) || has(FileKind::Events, Field::Event))
        && !has(FileKind::Sales, Field::Sku)
        && !has(FileKind::Sales, Field::Quantity)
    {
        return Some(FileKind::Events);
    }
    if located && !has(FileKind::Products, Field::Sku) {
        return Some(FileKind::Warehouses);
    }
    // Prices by SKU, and by store and week perhaps, but no quantities and
    // nothing else a product row says (M5's sell_prices.csv).
    let described = FileKind::Products
        .fields()
        .iter()
        .any(|(f, _)| !matches!(f, Field::Sku | Field::Price) && has(FileKind::Products, *f));
    // Every other column must say when (a week, a date, a validity): a
    // table with anything more (stock, sales in money, a column per store)
    // is not read as prices, its other numbers dropped.
    let priced = resolve(FileKind::Prices, headers, map);
    let when = |h: &String| {
        let n = normalize(h);
        [
            "week", "wk", "month", "year", "date", "period", "valid", "day", "from", "until",
        ]
        .iter()
        .any(|w| n.contains(w))
    };
    if priced.contains_key(&Field::Sku)
        && priced.contains_key(&Field::Price)
        && !described
        && headers.iter().all(|h| priced.values().any(|c| c == h) || when(h))
        && headers.len() <= priced.len() + 2
    {
        return Some(FileKind::Prices);
    }
    // A SKU and anything a product row says but a price (by any of the
    // fields' aliases: Favorita's `family` is a category).
    let mut product_fields = FileKind::Products
        .fields()
        .iter()
        .map(|(f, _)| *f)
        .filter(|f| !matches!(f, Field::Sku | Field::Price));
    // Not when it also holds quantities, dates or places: stock or sales
    // in a layout not recognised must not import as products (their
    // numbers silently dropped).
    // By strong aliases: a product's `month` of launch is not a sales date.
    let strong = |kind: FileKind, field: Field| resolve_by(kind, headers, map, false).contains_key(&field);
    let counts = strong(FileKind::Sales, Field::Quantity)
        || strong(FileKind::Sales, Field::Date)
        || strong(FileKind::Sales, Field::Warehouse)
        || strong(FileKind::Inventory, Field::OnHand);
    if !counts && has(FileKind::Products, Field::Sku) && product_fields.any(|f| has(FileKind::Products, f)) {
        return Some(FileKind::Products);
    }
    // A list of stores or warehouses without coordinates (Favorita's
    // stores.csv): a column named for them, and no SKU, date or quantity.
    // Only a column named for stores: a warehouse or location column
    // beside vehicles, orders or customers is a fleet, orders or customer
    // file whose other columns were not recognised.
    let norm: Vec<String> = headers.iter().map(|h| normalize(h)).collect();
    let named_site = norm
        .iter()
        .any(|h| ["store", "storeid", "storenbr"].contains(&h.as_str()));
    let other = has(FileKind::Fleet, Field::Id) && !norm.iter().any(|h| h == "id")
        || resolve(FileKind::Orders, headers, map)
            .get(&Field::Id)
            .is_some_and(|c| normalize(c) != "id")
        || has(FileKind::Transactions, Field::Customer);
    if named_site
        && !other
        && !has(FileKind::Sales, Field::Sku)
        && !has(FileKind::Sales, Field::Date)
        && !has(FileKind::Sales, Field::Quantity)
    {
        return Some(FileKind::Warehouses);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(cols: &[&str]) -> Vec<String> {
        cols.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn parses_map() {
        let m: ColumnMap = "sku=item, warehouse=store,quantity=sales".parse().unwrap();
        assert_eq!(m.get(Field::Sku), Some("item"));
        assert_eq!(m.get(Field::Warehouse), Some("store"));
        assert_eq!(m.get(Field::Quantity), Some("sales"));
        assert_eq!(m.to_string(), "sku=item,warehouse=store,quantity=sales");
        assert!("sku".parse::<ColumnMap>().unwrap_err().contains("field=column"));
        assert!(
            "colour=x"
                .parse::<ColumnMap>()
                .unwrap_err()
                .contains("unknown field 'colour'")
        );
        assert!("sku=a,sku=b".parse::<ColumnMap>().unwrap_err().contains("twice"));
    }

    #[test]
    fn aliases_find_store_item_columns() {
        let cols = h(&["date", "store", "item", "sales"]);
        let r = resolve(FileKind::Sales, &cols, &ColumnMap::default());
        assert_eq!(r[&Field::Sku], "item");
        assert_eq!(r[&Field::Warehouse], "store");
        assert_eq!(r[&Field::Quantity], "sales");
        assert_eq!(detect_kind(&cols, &ColumnMap::default()), Some(FileKind::Sales));
    }

    #[test]
    fn aliases_find_online_retail_columns() {
        let cols = h(&[
            "InvoiceNo",
            "StockCode",
            "Description",
            "Quantity",
            "InvoiceDate",
            "UnitPrice",
            "CustomerID",
            "Country",
        ]);
        assert_eq!(detect_kind(&cols, &ColumnMap::default()), Some(FileKind::Transactions));
        let r = resolve(FileKind::Transactions, &cols, &ColumnMap::default());
        assert_eq!(r[&Field::Invoice], "InvoiceNo");
        assert_eq!(r[&Field::Sku], "StockCode");
        assert_eq!(r[&Field::Date], "InvoiceDate");
        assert_eq!(r[&Field::Price], "UnitPrice");
        assert_eq!(r[&Field::Customer], "CustomerID");
    }

    #[test]
    fn aliases_find_shop_exports_and_weekly_or_monthly_files() {
        let none = ColumnMap::default();
        let weekly = h(&["week", "sku", "store", "units_sold"]);
        assert_eq!(detect_kind(&weekly, &none), Some(FileKind::Sales));
        let r = resolve(FileKind::Sales, &weekly, &none);
        assert_eq!(r[&Field::Date], "week");
        assert_eq!(r[&Field::Quantity], "units_sold");
        let monthly = h(&["Month", "Part Number", "Qty"]);
        assert_eq!(detect_kind(&monthly, &none), Some(FileKind::Sales));
        assert_eq!(resolve(FileKind::Sales, &monthly, &none)[&Field::Sku], "Part Number");
        let shop = h(&["purchase-date", "seller-sku", "quantity-purchased"]);
        let r = resolve(FileKind::Sales, &shop, &none);
        assert_eq!(r[&Field::Date], "purchase-date");
        assert_eq!(r[&Field::Sku], "seller-sku");
        // Weaker names give way: a calendar's week and month beside its
        // date, a product's month of launch, a second code beside the SKU.
        let calendar = h(&["date", "sku", "store", "qty", "week", "month", "year"]);
        let r = resolve(FileKind::Sales, &calendar, &none);
        assert_eq!(r[&Field::Date], "date");
        assert!(ambiguous(FileKind::Sales, &calendar, &none, &r).is_empty());
        assert_eq!(
            detect_kind(&h(&["sku", "title", "month"]), &none),
            Some(FileKind::Products)
        );
        let codes = h(&["Product ID", "Variant SKU", "Title"]);
        let r = resolve(FileKind::Products, &codes, &none);
        assert_eq!(r[&Field::Sku], "Product ID");
        assert!(ambiguous(FileKind::Products, &codes, &none, &r).is_empty());
        // Units ordered beside a revenue column called sales: which one the
        // demand is would be a guess, so it is asked for.
        let orders = h(&[
            "ORDERNUMBER",
            "QUANTITYORDERED",
            "PRICEEACH",
            "SALES",
            "ORDERDATE",
            "PRODUCTCODE",
        ]);
        assert_eq!(detect_kind(&orders, &none), Some(FileKind::Transactions));
        let r = resolve(FileKind::Transactions, &orders, &none);
        let clash = ambiguous(FileKind::Transactions, &orders, &none, &r);
        assert_eq!(
            clash,
            vec![(
                Field::Quantity,
                vec!["QUANTITYORDERED".to_string(), "SALES".to_string()]
            )]
        );
    }

    #[test]
    fn aliases_find_a_grocery_chains_files() {
        // Favorita's layout: sales, items and stores, numbered columns.
        let none = ColumnMap::default();
        let sales = h(&["id", "date", "store_nbr", "item_nbr", "unit_sales", "onpromotion"]);
        assert_eq!(detect_kind(&sales, &none), Some(FileKind::Sales));
        let r = resolve(FileKind::Sales, &sales, &none);
        assert_eq!(r[&Field::Sku], "item_nbr");
        assert_eq!(r[&Field::Warehouse], "store_nbr");
        assert_eq!(r[&Field::Quantity], "unit_sales");
        assert_eq!(r[&Field::Promo], "onpromotion");
        let items = h(&["item_nbr", "family", "class", "perishable"]);
        assert_eq!(detect_kind(&items, &none), Some(FileKind::Products));
        assert_eq!(resolve(FileKind::Products, &items, &none)[&Field::Category], "family");
        let stores = h(&["store_nbr", "city", "state", "type", "cluster"]);
        assert_eq!(detect_kind(&stores, &none), Some(FileKind::Warehouses));
        // A bare id or code column names nothing in particular.
        assert_eq!(detect_kind(&h(&["code", "city"]), &none), None);
        assert_eq!(detect_kind(&h(&["id", "colour"]), &none), None);
        // A SKU alone says nothing a product row would.
        assert_eq!(detect_kind(&h(&["sku", "colour"]), &none), None);
        // Stock or sales in a layout not recognised stay unrecognised
        // (asking for --map) rather than importing as products.
        for cols in [
            &["sku", "description", "qty"][..],
            &["Posting Date", "Document No.", "Item", "Description", "Quantity"],
        ] {
            assert_eq!(detect_kind(&h(cols), &none), None, "{cols:?}");
        }
        // A stock list in an ERP's words is stock.
        let stock = h(&["Item", "Description", "Location Code", "Quantity on Hand"]);
        assert_eq!(detect_kind(&stock, &none), Some(FileKind::Inventory));
        // A warehouse or location column beside vehicles, orders or
        // customers is not a list of stores.
        for cols in [
            &["vehicle", "warehouse", "payload_kg"][..],
            &["order_id", "store", "weight"],
            &["customer", "name", "store"],
        ] {
            assert_eq!(detect_kind(&h(cols), &none), None, "{cols:?}");
        }
    }

    #[test]
    fn explicit_map_wins_over_alias() {
        let cols = h(&["date", "sku", "units", "qty_shipped"]);
        let map: ColumnMap = "quantity=qty_shipped".parse().unwrap();
        let r = resolve(FileKind::Sales, &cols, &map);
        assert_eq!(r[&Field::Quantity], "qty_shipped");
    }

    #[test]
    fn two_aliases_of_one_field_are_ambiguous_unless_mapped() {
        let cols = h(&["date", "sku", "qty", "store", "quantity"]);
        let none = ColumnMap::default();
        let r = resolve(FileKind::Sales, &cols, &none);
        assert_eq!(
            ambiguous(FileKind::Sales, &cols, &none, &r),
            vec![(Field::Quantity, vec!["qty".to_string(), "quantity".to_string()])]
        );
        let map: ColumnMap = "quantity=qty".parse().unwrap();
        let r = resolve(FileKind::Sales, &cols, &map);
        assert_eq!(r[&Field::Quantity], "qty");
        assert!(ambiguous(FileKind::Sales, &cols, &map, &r).is_empty());
        // A column mapped to another field is no rival.
        let cols = h(&["date", "item", "sku", "quantity"]);
        let map: ColumnMap = "warehouse=item".parse().unwrap();
        let r = resolve(FileKind::Sales, &cols, &map);
        assert_eq!(r[&Field::Sku], "sku");
        assert!(ambiguous(FileKind::Sales, &cols, &map, &r).is_empty());
    }

    #[test]
    fn detects_every_generated_kind() {
        let none = ColumnMap::default();
        let cases = [
            (
                vec![
                    "sku",
                    "title",
                    "category",
                    "brand",
                    "unit_cost",
                    "price",
                    "pack_size",
                    "moq",
                    "lead_time_days",
                    "supplier",
                ],
                FileKind::Products,
            ),
            (
                vec!["sku", "warehouse", "on_hand", "on_order", "due_date"],
                FileKind::Inventory,
            ),
            (vec!["id", "name", "lat", "lon"], FileKind::Warehouses),
            (
                vec![
                    "id",
                    "warehouse",
                    "customer",
                    "lat",
                    "lon",
                    "quantity",
                    "ready",
                    "due",
                    "service_min",
                ],
                FileKind::Orders,
            ),
            (
                vec![
                    "id",
                    "warehouse",
                    "capacity",
                    "shift_start",
                    "shift_end",
                    "speed_kmh",
                    "cost_per_km",
                ],
                FileKind::Fleet,
            ),
        ];
        for (cols, kind) in cases {
            assert_eq!(detect_kind(&h(&cols), &none), Some(kind), "{cols:?}");
        }
    }
}
