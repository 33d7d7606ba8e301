//! A realistic, generated e-commerce data set: products described in words,
//! daily sales with weekly and yearly seasonality, trend, promotions,
//! intermittent slow movers and newly launched SKUs, stock on hand and on
//! order, tomorrow's delivery orders around the warehouses, and a fleet.
//! The same seed gives the same files, byte for byte.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{Datelike, Days, NaiveDate, Weekday};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Gamma, Poisson};
use serde::Serialize;

use crate::fsio::atomic_write;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SalesFormat {
    Csv,
    Parquet,
}

#[derive(Debug, Clone)]
pub struct SampleSpec {
    pub skus: usize,
    pub warehouses: usize,
    pub days: usize,
    pub seed: u64,
    /// Last day of sales history; orders are for the day after.
    pub end: NaiveDate,
    pub sales_format: SalesFormat,
}

impl Default for SampleSpec {
    fn default() -> Self {
        SampleSpec {
            skus: 200,
            warehouses: 3,
            days: 730,
            seed: 42,
            end: NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default(),
            sales_format: SalesFormat::Csv,
        }
    }
}

/// How demand moves through the year for a category.
#[derive(Debug, Clone, Copy)]
enum Season {
    /// Peaks before Christmas.
    Christmas(f64),
    /// Peaks in early July.
    Summer(f64),
    /// Peaks in winter (January).
    Winter(f64),
    /// Late August, back to school.
    School(f64),
    Flat,
}

struct Category {
    name: &'static str,
    nouns: &'static [&'static str],
    adjectives: &'static [&'static str],
    variants: &'static [&'static str],
    season: Season,
    /// Unit cost range.
    cost: (f64, f64),
    /// Black Friday matters for this category.
    black_friday: bool,
}

const CATEGORIES: &[Category] = &[
    Category {
        name: "Kitchen",
        nouns: &[
            "Frying Pan",
            "Saucepan",
            "Chef's Knife",
            "Cutting Board",
            "Mixing Bowl",
            "Kettle",
            "Casserole Dish",
            "Colander",
        ],
        adjectives: &[
            "Non-Stick",
            "Stainless Steel",
            "Cast Iron",
            "Bamboo",
            "Ceramic",
            "Enamel",
        ],
        variants: &["20cm", "24cm", "28cm", "Set of 3", "Large", "Small"],
        season: Season::Christmas(0.35),
        cost: (4.0, 35.0),
        black_friday: true,
    },
    Category {
        name: "Garden",
        nouns: &[
            "Garden Hose",
            "Trowel",
            "Planter",
            "Folding Chair",
            "Parasol",
            "Seed Tray",
            "Watering Can",
            "Bird Feeder",
        ],
        adjectives: &[
            "Heavy Duty",
            "Galvanised",
            "Weatherproof",
            "Recycled Plastic",
            "Terracotta",
        ],
        variants: &["15m", "30m", "Green", "Grey", "Pack of 2", "Large"],
        season: Season::Summer(0.8),
        cost: (2.5, 40.0),
        black_friday: false,
    },
    Category {
        name: "Toys",
        nouns: &[
            "Jigsaw Puzzle",
            "Building Blocks",
            "Plush Bear",
            "Board Game",
            "Wooden Train Set",
            "Craft Kit",
            "Kite",
        ],
        adjectives: &["Classic", "Deluxe", "Junior", "Family", "Eco"],
        variants: &["Age 3+", "Age 6+", "Age 8+", "Gift Edition", "Travel Size"],
        season: Season::Christmas(1.6),
        cost: (3.0, 25.0),
        black_friday: true,
    },
    Category {
        name: "Outdoor Clothing",
        nouns: &[
            "Rain Jacket",
            "Thermal Gloves",
            "Wool Hat",
            "Fleece",
            "Walking Socks",
            "Down Vest",
        ],
        adjectives: &["Waterproof", "Merino", "Insulated", "Packable", "Windproof"],
        variants: &["S", "M", "L", "XL", "Navy", "Black"],
        season: Season::Winter(0.7),
        cost: (5.0, 45.0),
        black_friday: true,
    },
    Category {
        name: "Home Decor",
        nouns: &[
            "Scented Candle",
            "Photo Frame",
            "Cushion Cover",
            "Wall Clock",
            "Table Lamp",
            "Throw Blanket",
        ],
        adjectives: &["Rustic", "Velvet", "Linen", "Brass", "Minimalist", "Hand-Poured"],
        variants: &["Vanilla", "Cedar", "A4", "45x45cm", "Ivory", "Sage"],
        season: Season::Christmas(0.6),
        cost: (2.0, 30.0),
        black_friday: false,
    },
    Category {
        name: "Stationery",
        nouns: &[
            "Notebook",
            "Gel Pens",
            "Desk Organiser",
            "Sticky Notes",
            "Pencil Case",
            "Planner",
        ],
        adjectives: &["Dotted", "Recycled", "Hardback", "Pastel", "Refillable"],
        variants: &["A5", "A4", "Pack of 10", "Pack of 5", "Black", "Assorted"],
        season: Season::School(0.9),
        cost: (0.8, 12.0),
        black_friday: false,
    },
    Category {
        name: "Pet Supplies",
        nouns: &[
            "Dog Lead",
            "Cat Scratcher",
            "Pet Bed",
            "Chew Toy",
            "Food Bowl",
            "Grooming Brush",
        ],
        adjectives: &["Reflective", "Orthopaedic", "Durable", "Anti-Slip", "Washable"],
        variants: &["Small", "Medium", "Large", "Blue", "Red"],
        season: Season::Flat,
        cost: (2.0, 28.0),
        black_friday: false,
    },
    Category {
        name: "Electronics Accessories",
        nouns: &[
            "USB-C Cable",
            "Phone Case",
            "Power Bank",
            "Wireless Earbuds",
            "Wall Charger",
            "HDMI Cable",
        ],
        adjectives: &["Braided", "Fast-Charge", "Slim", "Rugged", "Compact"],
        variants: &["1m", "2m", "10000mAh", "20000mAh", "Black", "White"],
        season: Season::Christmas(0.5),
        cost: (1.5, 30.0),
        black_friday: true,
    },
    Category {
        name: "Beauty",
        nouns: &[
            "Hand Cream",
            "Lip Balm",
            "Sunscreen",
            "Shampoo Bar",
            "Face Mask",
            "Body Lotion",
        ],
        adjectives: &["Organic", "Unscented", "Shea Butter", "SPF50", "Sensitive"],
        variants: &["50ml", "100ml", "250ml", "Travel Size", "Twin Pack"],
        season: Season::Summer(0.4),
        cost: (1.0, 15.0),
        black_friday: false,
    },
];

const BRANDS: &[&str] = &[
    "Northwind",
    "Brightline",
    "Oakfield",
    "Kestrel",
    "Luma",
    "Tidewell",
    "Copperleaf",
    "Harbor & Pine",
    "Fernhill",
    "Bluebird",
    "Marlow",
    "Everyday Co.",
];

/// Suppliers by category, with their usual lead time in days.
const SUPPLIERS: &[(&str, &[(&str, u32)])] = &[
    ("Kitchen", &[("Anglia Housewares Ltd", 7), ("Ningbo Cookware Co.", 35)]),
    (
        "Garden",
        &[("Pennine Outdoor Supply", 10), ("Anglia Housewares Ltd", 7)],
    ),
    (
        "Toys",
        &[("Rhine Valley Toys GmbH", 21), ("Guangdong Playthings Ltd", 42)],
    ),
    (
        "Outdoor Clothing",
        &[("Pennine Outdoor Supply", 10), ("Porto Textile Works", 18)],
    ),
    (
        "Home Decor",
        &[("Iberia Home Textiles", 14), ("Anglia Housewares Ltd", 7)],
    ),
    ("Stationery", &[("Clyde Paper Mills", 5)]),
    ("Pet Supplies", &[("Northern Pet Wholesale", 6)]),
    (
        "Electronics Accessories",
        &[("Shenzhen Bright Electronics", 35), ("Midlands Cable Co.", 9)],
    ),
    ("Beauty", &[("Lakeland Botanicals Ltd", 8)]),
];

/// (id, name, lat, lon): real city centres, so maps look right.
const SITES: &[(&str, &str, f64, f64)] = &[
    ("WH-LON", "London Park Royal", 51.5290, -0.2720),
    ("WH-MAN", "Manchester Trafford", 53.4630, -2.3240),
    ("WH-BHX", "Birmingham Hams Hall", 52.5200, -1.7150),
    ("WH-LDS", "Leeds Stourton", 53.7680, -1.5200),
    ("WH-GLA", "Glasgow Eurocentral", 55.8470, -3.9890),
    ("WH-BRS", "Bristol Avonmouth", 51.5080, -2.6990),
    ("WH-NCL", "Newcastle Team Valley", 54.9330, -1.6180),
    ("WH-SOU", "Southampton Nursling", 50.9460, -1.4630),
];

#[derive(Serialize)]
struct ProductRow {
    sku: String,
    title: String,
    category: String,
    brand: String,
    unit_cost: f64,
    price: f64,
    pack_size: u32,
    moq: u32,
    lead_time_days: u32,
    supplier: String,
}

#[derive(Serialize)]
struct WarehouseRow {
    id: String,
    name: String,
    lat: f64,
    lon: f64,
}

#[derive(Serialize)]
struct InventoryRow {
    sku: String,
    warehouse: String,
    on_hand: u32,
    on_order: u32,
    due_date: String,
}

#[derive(Serialize)]
struct OrderRow {
    id: String,
    warehouse: String,
    customer: String,
    date: String,
    lat: f64,
    lon: f64,
    quantity: u32,
    ready: String,
    due: String,
    service_min: u32,
}

#[derive(Serialize)]
struct FleetRow {
    id: String,
    warehouse: String,
    capacity: u32,
    shift_start: String,
    shift_end: String,
    speed_kmh: f64,
    cost_per_km: f64,
}

/// How a SKU sells.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mover {
    Fast,
    Medium,
    /// Sells on few days, a unit or two at a time.
    Slow,
}

struct SkuPlan {
    sku: String,
    category: usize,
    mover: Mover,
    base: f64,
    /// Growth per year, e.g. 0.2 for +20 %.
    trend: f64,
    /// First day it sells (new SKUs start late).
    launch: usize,
    price: f64,
    promos: Vec<(usize, usize, f64)>,
}

/// Files written and their row counts.
#[derive(Debug, Clone)]
pub struct Written {
    pub files: Vec<(PathBuf, usize)>,
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn hhmm(min: u32) -> String {
    format!("{:02}:{:02}", min / 60, min % 60)
}

/// Multiplier for a day of the year.
fn season_factor(season: Season, date: NaiveDate) -> f64 {
    let doy = f64::from(date.ordinal0());
    let bump = |peak_doy: f64, width: f64| {
        let mut d = (doy - peak_doy).abs();
        d = d.min(365.0 - d);
        (-0.5 * (d / width).powi(2)).exp()
    };
    match season {
        Season::Christmas(a) => 1.0 + a * bump(345.0, 18.0) + 0.15 * a * bump(330.0, 30.0),
        Season::Summer(a) => 1.0 + a * (((doy - 182.0) / 365.0 * std::f64::consts::TAU).cos() + 1.0) / 2.0 - a / 4.0,
        Season::Winter(a) => 1.0 + a * ((doy / 365.0 * std::f64::consts::TAU).cos() + 1.0) / 2.0 - a / 4.0,
        Season::School(a) => 1.0 + a * bump(236.0, 12.0),
        Season::Flat => 1.0,
    }
    .max(0.05)
}

/// Online shoppers buy most on Sunday evening and Monday.
fn weekday_factor(date: NaiveDate) -> f64 {
    match date.weekday() {
        Weekday::Mon => 1.18,
        Weekday::Tue => 1.05,
        Weekday::Wed => 0.98,
        Weekday::Thu => 0.95,
        Weekday::Fri => 0.88,
        Weekday::Sat => 0.86,
        Weekday::Sun => 1.10,
    }
}

fn is_black_friday_week(date: NaiveDate) -> bool {
    // Black Friday: the fourth Friday of November; the uplift runs Thu..Mon.
    if date.month() != 11 && date.month() != 12 {
        return false;
    }
    let Some(nov1) = NaiveDate::from_ymd_opt(date.year(), 11, 1) else {
        return false;
    };
    let first_friday = (11 - nov1.weekday().num_days_from_monday() as i64) % 7;
    let bf = nov1 + chrono::Duration::days(first_friday + 21);
    let d = (date - bf).num_days();
    (-1..=3).contains(&d)
}

/// Write the whole set into `out` (created if needed).
pub fn generate(out: &Path, spec: &SampleSpec) -> Result<Written> {
    fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let days = spec.days.max(1);
    let start = spec
        .end
        .checked_sub_days(Days::new(days as u64 - 1))
        .context("--days reaches before year 1")?;

    // Warehouses.
    let mut warehouses = Vec::new();
    for w in 0..spec.warehouses.max(1) {
        let (id, name, lat, lon) = if w < SITES.len() {
            let (id, name, lat, lon) = SITES[w];
            (id.to_string(), name.to_string(), lat, lon)
        } else {
            let (_, _, lat, lon) = SITES[w % SITES.len()];
            (
                format!("WH-{:03}", w + 1),
                format!("Regional Hub {}", w + 1),
                round4(lat + rng.random_range(-0.8..0.8)),
                round4(lon + rng.random_range(-0.8..0.8)),
            )
        };
        warehouses.push(WarehouseRow { id, name, lat, lon });
    }
    let wh_factor: Vec<f64> = (0..warehouses.len())
        .map(|w| if w == 0 { 1.4 } else { rng.random_range(0.5..1.1) })
        .collect();

    // Products.
    let mut products = Vec::new();
    let mut plans = Vec::new();
    for i in 0..spec.skus {
        let ci = rng.random_range(0..CATEGORIES.len());
        let cat = &CATEGORIES[ci];
        let brand = BRANDS[rng.random_range(0..BRANDS.len())];
        let title = format!(
            "{brand} {} {} {}",
            cat.adjectives[rng.random_range(0..cat.adjectives.len())],
            cat.nouns[rng.random_range(0..cat.nouns.len())],
            cat.variants[rng.random_range(0..cat.variants.len())]
        );
        let cost = round2(rng.random_range(cat.cost.0..cat.cost.1));
        let price = round2(cost * rng.random_range(1.6..2.8));
        let pack_size = match cost {
            c if c < 2.0 => [10, 12, 24][rng.random_range(0..3)],
            c if c < 8.0 => [4, 6, 12][rng.random_range(0..3)],
            c if c < 20.0 => [1, 2, 4][rng.random_range(0..3)],
            _ => 1,
        };
        let moq = if rng.random_bool(0.4) {
            pack_size * rng.random_range(2..6)
        } else {
            0
        };
        let (supplier, lead) = supplier_for(cat.name, &mut rng);
        let r: f64 = rng.random();
        let mover = if r < 0.35 {
            Mover::Fast
        } else if r < 0.72 {
            Mover::Medium
        } else {
            Mover::Slow
        };
        let base = match mover {
            Mover::Fast => rng.random_range(12.0..60.0) / (1.0 + cost / 30.0),
            Mover::Medium => rng.random_range(2.0..10.0),
            Mover::Slow => rng.random_range(0.05..0.5),
        };
        // About one SKU in twelve launched recently, some within the last month.
        let launch = if rng.random_bool(0.08) {
            days.saturating_sub(rng.random_range(20..150).min(days))
        } else {
            0
        };
        let mut promos = Vec::new();
        if mover != Mover::Slow {
            let n = (days / 120).max(1);
            for _ in 0..rng.random_range(0..=n) {
                let s = rng.random_range(0..days);
                let len = rng.random_range(3..11);
                promos.push((s, (s + len).min(days), rng.random_range(1.4..2.6)));
            }
        }
        let sku = format!("SKU-{:05}", i + 1);
        products.push(ProductRow {
            sku: sku.clone(),
            title,
            category: cat.name.to_string(),
            brand: brand.to_string(),
            unit_cost: cost,
            price,
            pack_size,
            moq,
            lead_time_days: lead,
            supplier: supplier.to_string(),
        });
        plans.push(SkuPlan {
            sku,
            category: ci,
            mover,
            base,
            trend: rng.random_range(-0.15..0.35),
            launch,
            price,
            promos,
        });
    }

    // Sales, one row per day with a sale.
    let mut s_date = Vec::new();
    let mut s_sku = Vec::new();
    let mut s_wh = Vec::new();
    let mut s_qty: Vec<u32> = Vec::new();
    let mut s_price = Vec::new();
    let mut s_promo: Vec<u8> = Vec::new();
    let mut last28 = vec![vec![0.0f64; warehouses.len()]; plans.len()];
    for (pi, p) in plans.iter().enumerate() {
        let cat = &CATEGORIES[p.category];
        for (wi, wh) in warehouses.iter().enumerate() {
            let mut srng =
                ChaCha8Rng::seed_from_u64(spec.seed ^ ((pi as u64) << 20) ^ (wi as u64 + 1).wrapping_mul(0x9E37_79B9));
            // Some SKUs are not stocked everywhere.
            if wi > 0 && srng.random_bool(0.06) {
                continue;
            }
            let level = p.base * wh_factor[wi] * srng.random_range(0.8..1.2);
            // Over-dispersion: gamma-Poisson, shape k.
            let k = match p.mover {
                Mover::Fast => 12.0,
                Mover::Medium => 5.0,
                Mover::Slow => 0.6,
            };
            for d in p.launch..days {
                let date = start + Days::new(d as u64);
                let years = (d as f64 - days as f64) / 365.0;
                let mut mean =
                    level * (1.0 + p.trend).powf(years) * weekday_factor(date) * season_factor(cat.season, date);
                // Ramp-up over the first weeks after launch.
                if p.launch > 0 {
                    mean *= ((d - p.launch) as f64 / 21.0).clamp(0.15, 1.0);
                }
                let promo = p.promos.iter().find(|(a, b, _)| (*a..*b).contains(&d));
                if let Some((_, _, uplift)) = promo {
                    mean *= uplift;
                }
                if cat.black_friday && is_black_friday_week(date) {
                    mean *= 1.9;
                }
                let lambda = Gamma::new(k, mean / k).map(|g| g.sample(&mut srng)).unwrap_or(mean);
                let q = if lambda > 0.0 {
                    Poisson::new(lambda).map(|po| po.sample(&mut srng)).unwrap_or(0.0) as u32
                } else {
                    0
                };
                if d + 28 >= days {
                    last28[pi][wi] += f64::from(q);
                }
                if q > 0 {
                    s_date.push(date);
                    s_sku.push(p.sku.clone());
                    s_wh.push(wh.id.clone());
                    s_qty.push(q);
                    s_price.push(if promo.is_some() {
                        round2(p.price * 0.8)
                    } else {
                        p.price
                    });
                    s_promo.push(u8::from(promo.is_some()));
                }
            }
        }
    }

    // Inventory: between nothing and ~6 weeks of cover; some on order.
    let mut inventory = Vec::new();
    for (pi, p) in plans.iter().enumerate() {
        for (wi, wh) in warehouses.iter().enumerate() {
            let daily = last28[pi][wi] / 28.0;
            if daily == 0.0 && rng.random_bool(0.5) {
                continue;
            }
            let cover = if rng.random_bool(0.08) {
                0.0
            } else {
                rng.random_range(3.0..45.0)
            };
            let on_hand = (daily * cover).round() as u32 + u32::from(p.mover == Mover::Slow) * rng.random_range(0..4);
            let (on_order, due) = if rng.random_bool(0.3) {
                let q = ((daily * rng.random_range(7.0..30.0)).ceil() as u32).max(1);
                let lead = products[pi].lead_time_days.max(2);
                let due = spec.end + Days::new(rng.random_range(1..=u64::from(lead)));
                (q, due.to_string())
            } else {
                (0, String::new())
            };
            inventory.push(InventoryRow {
                sku: p.sku.clone(),
                warehouse: wh.id.clone(),
                on_hand,
                on_order,
                due_date: due,
            });
        }
    }

    // Tomorrow's delivery orders around each warehouse, and the fleet.
    let tomorrow = spec.end + Days::new(1);
    let mut orders = Vec::new();
    let mut fleet = Vec::new();
    let mut order_no = 1;
    for wh in &warehouses {
        let n = rng.random_range(30..50);
        for _ in 0..n {
            // Up to ~35 km away; km per degree of longitude shrinks with latitude.
            let r_km = 35.0 * rng.random::<f64>().sqrt();
            let a = rng.random_range(0.0..std::f64::consts::TAU);
            let lat = wh.lat + r_km * a.sin() / 111.0;
            let lon = wh.lon + r_km * a.cos() / (111.0 * wh.lat.to_radians().cos());
            let width = [120, 180, 240, 600][rng.random_range(0..4)];
            let ready = rng.random_range(8 * 60 / 30..=(18 * 60 - width) / 30) * 30;
            orders.push(OrderRow {
                id: format!("ORD-{order_no:06}"),
                warehouse: wh.id.clone(),
                customer: format!("CUST-{:05}", rng.random_range(1..20000)),
                date: tomorrow.to_string(),
                lat: round4(lat),
                lon: round4(lon),
                quantity: rng.random_range(1..40),
                ready: hhmm(ready),
                due: hhmm(ready + width),
                service_min: rng.random_range(5..16),
            });
            order_no += 1;
        }
        for v in 0..rng.random_range(3..6) {
            let early = rng.random_bool(0.5);
            fleet.push(FleetRow {
                id: format!("{}-V{}", wh.id, v + 1),
                warehouse: wh.id.clone(),
                capacity: [200, 300, 400][rng.random_range(0..3)],
                shift_start: if early { "07:00" } else { "08:00" }.to_string(),
                shift_end: if early { "17:00" } else { "18:00" }.to_string(),
                speed_kmh: 35.0,
                cost_per_km: [0.45, 0.55, 0.65][rng.random_range(0..3)],
            });
        }
    }

    let mut files = vec![
        write_csv(&out.join("products.csv"), &products)?,
        write_csv(&out.join("warehouses.csv"), &warehouses)?,
        write_csv(&out.join("inventory.csv"), &inventory)?,
        write_csv(&out.join("orders.csv"), &orders)?,
        write_csv(&out.join("fleet.csv"), &fleet)?,
    ];
    let sales = SalesColumns {
        date: s_date,
        sku: s_sku,
        warehouse: s_wh,
        quantity: s_qty,
        price: s_price,
        promo: s_promo,
    };
    // Only one sales file may be in the folder, or the importer would read both.
    let (keep, drop) = match spec.sales_format {
        SalesFormat::Csv => ("sales.csv", "sales.parquet"),
        SalesFormat::Parquet => ("sales.parquet", "sales.csv"),
    };
    let _ = fs::remove_file(out.join(drop));
    files.push(write_sales(&out.join(keep), &sales, spec.sales_format)?);
    Ok(Written { files })
}

fn round4(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

fn supplier_for(category: &str, rng: &mut ChaCha8Rng) -> (&'static str, u32) {
    let list = SUPPLIERS
        .iter()
        .find(|(c, _)| *c == category)
        .map_or(&[("General Wholesale Ltd", 10)][..], |(_, l)| l);
    let (name, lead) = list[rng.random_range(0..list.len())];
    (name, lead + rng.random_range(0..4))
}

fn write_csv<T: Serialize>(path: &Path, rows: &[T]) -> Result<(PathBuf, usize)> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r)?;
    }
    let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
    atomic_write(path, &bytes)?;
    Ok((path.to_path_buf(), rows.len()))
}

struct SalesColumns {
    date: Vec<NaiveDate>,
    sku: Vec<String>,
    warehouse: Vec<String>,
    quantity: Vec<u32>,
    price: Vec<f64>,
    promo: Vec<u8>,
}

fn write_sales(path: &Path, s: &SalesColumns, format: SalesFormat) -> Result<(PathBuf, usize)> {
    let n = s.date.len();
    match format {
        SalesFormat::Csv => {
            let mut buf = String::with_capacity(n * 48);
            buf.push_str("date,sku,warehouse,quantity,price,promo\n");
            for i in 0..n {
                use std::fmt::Write as _;
                let _ = writeln!(
                    buf,
                    "{},{},{},{},{},{}",
                    s.date[i], s.sku[i], s.warehouse[i], s.quantity[i], s.price[i], s.promo[i]
                );
            }
            atomic_write(path, buf.as_bytes())?;
        }
        SalesFormat::Parquet => {
            use polars::prelude::*;
            let mut df = df!(
                "date" => s.date.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
                "sku" => &s.sku,
                "warehouse" => &s.warehouse,
                "quantity" => &s.quantity,
                "price" => &s.price,
                "promo" => s.promo.iter().map(|p| u32::from(*p)).collect::<Vec<_>>(),
            )?;
            let mut bytes = Vec::new();
            ParquetWriter::new(&mut bytes)
                .with_compression(ParquetCompression::Zstd(None))
                .finish(&mut df)?;
            atomic_write(path, &bytes)?;
        }
    }
    Ok((path.to_path_buf(), n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seasons_peak_where_promised() {
        let d = |m, day| NaiveDate::from_ymd_opt(2025, m, day).unwrap();
        assert!(season_factor(Season::Christmas(1.0), d(12, 12)) > 1.8);
        assert!(season_factor(Season::Christmas(1.0), d(6, 1)) < 1.05);
        assert!(season_factor(Season::Summer(0.8), d(7, 1)) > season_factor(Season::Summer(0.8), d(1, 1)) + 0.7);
        assert!(season_factor(Season::Winter(0.7), d(1, 5)) > season_factor(Season::Winter(0.7), d(7, 5)) + 0.6);
    }

    #[test]
    fn black_friday_is_the_fourth_friday_of_november() {
        // 2025-11-28 and 2026-11-27 were / are Black Friday.
        assert!(is_black_friday_week(NaiveDate::from_ymd_opt(2025, 11, 28).unwrap()));
        assert!(is_black_friday_week(NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()));
        assert!(!is_black_friday_week(NaiveDate::from_ymd_opt(2026, 11, 20).unwrap()));
    }
}
